//! Opening many WebSocket connections from one machine.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::{anyhow, Context};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

pub type Ws = WebSocketStream<TcpStream>;

/// Small buffers: ten thousand clients with the 128 KiB defaults would spend
/// gigabytes on buffers and crowd the server being measured.
pub fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(16 << 20))
}

/// Connects over TCP, spreading loopback connections over 127.0.0.1..=127.0.0.K
/// as source addresses so ten thousand of them never run out of ephemeral ports.
pub async fn connect_tcp(
    addr: SocketAddr,
    index: usize,
    source_ips: u8,
) -> anyhow::Result<TcpStream> {
    let stream = match addr.ip() {
        IpAddr::V4(ip) if ip.is_loopback() && source_ips > 1 => {
            let last = 1 + (index % source_ips as usize) as u8;
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(Ipv4Addr::new(127, 0, 0, last).into(), 0))?;
            socket.connect(addr).await?
        }
        _ => TcpStream::connect(addr).await?,
    };
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Opens a WebSocket to `url` (ws://host:port/path), with an optional cookie.
pub async fn connect_ws(
    url: &str,
    cookie: Option<&str>,
    index: usize,
    source_ips: u8,
) -> anyhow::Result<Ws> {
    let mut request = url.into_client_request().context("websocket url")?;
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", HeaderValue::from_str(cookie)?);
    }
    let addr = socket_addr(url)?;
    let tcp = connect_tcp(addr, index, source_ips).await?;
    let (ws, _response) =
        tokio_tungstenite::client_async_with_config(request, tcp, Some(client_config()))
            .await
            .with_context(|| format!("websocket handshake with {url}"))?;
    Ok(ws)
}

/// The socket address of an `http://` or `ws://` URL (IP literals and localhost only:
/// load targets are loopback or named by address).
pub fn socket_addr(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("no scheme in {url}"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = authority.replace("localhost", "127.0.0.1");
    let default_port = if url.starts_with("https") || url.starts_with("wss") {
        443
    } else {
        80
    };
    let with_port = if authority.contains(':') {
        authority
    } else {
        format!("{authority}:{default_port}")
    };
    with_port
        .parse()
        .with_context(|| format!("{url}: expected an IP address and port"))
}

/// `http://host:port` -> `ws://host:port`.
pub fn ws_base(http_base: &str) -> String {
    if let Some(rest) = http_base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = http_base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        http_base.to_string()
    }
}
