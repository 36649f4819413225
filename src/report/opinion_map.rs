//! The opinion map as an SVG: one anonymous dot per placed participant,
//! coloured by group, each group's centre marked with its letter so the
//! groups can be told apart without colour. Presentation attributes only
//! (no style element, no script, no hover titles on dots), so the strict
//! CSP has nothing to refuse and nobody can be picked out.

use std::fmt::Write;

use super::opinion::Opinion;
use super::timeline::escape;

/// Okabe–Ito colours: told apart by people with the common colour-vision
/// deficiencies. Groups never number more than five.
pub const COLOURS: [&str; 5] = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00"];
/// Dots of people in groups too small to show.
const UNGROUPED: &str = "#9aa0a6";

/// The map, or a panel saying there are no clear groups.
pub fn map_svg(title: &str, opinion: &Opinion) -> String {
    const W: f64 = 640.0;
    const H: f64 = 440.0;
    const PAD: f64 = 28.0;
    const TOP: f64 = 40.0;
    let mut s = String::new();
    let desc = describe(opinion);
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-labelledby="map-title map-desc" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12">"##
    );
    let _ = write!(
        s,
        r##"<title id="map-title">{}</title><desc id="map-desc">{}</desc>"##,
        escape(&format!("Opinion groups: {title}")),
        escape(&desc)
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/><text x="{PAD}" y="24" font-size="15" font-weight="600" fill="#1b1e22">Opinion groups (people placed by how they voted)</text>"##
    );
    if !opinion.clear || opinion.points.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{x}" y="{y}" text-anchor="middle" font-size="15" fill="#4a4f57">No clear groups</text></svg>"##,
            x = W / 2.0,
            y = H / 2.0
        );
        return s;
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in &opinion.points {
        x0 = x0.min(p.x);
        x1 = x1.max(p.x);
        y0 = y0.min(p.y);
        y1 = y1.max(p.y);
    }
    let span_x = (x1 - x0).max(1e-9);
    let span_y = (y1 - y0).max(1e-9);
    let px = |x: f64| PAD + (x - x0) / span_x * (W - 2.0 * PAD);
    let py = |y: f64| TOP + PAD + (y1 - y) / span_y * (H - TOP - 2.0 * PAD);
    let _ = write!(s, r##"<g fill-opacity="0.55">"##);
    for p in &opinion.points {
        let colour = p
            .group
            .and_then(|g| COLOURS.get(g))
            .copied()
            .unwrap_or(UNGROUPED);
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"/>"##,
            px(p.x),
            py(p.y)
        );
    }
    let _ = write!(s, "</g>");
    for (i, g) in opinion.groups.iter().enumerate() {
        let colour = COLOURS.get(i).copied().unwrap_or(UNGROUPED);
        let (cx, cy) = (px(g.centroid[0]), py(g.centroid[1]));
        let _ = write!(
            s,
            r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="13" fill="#ffffff" stroke="{colour}" stroke-width="3"/><text x="{cx:.1}" y="{ty:.1}" text-anchor="middle" font-size="14" font-weight="700" fill="#1b1e22">{}</text>"##,
            escape(&g.label),
            ty = cy + 5.0
        );
    }
    s.push_str("</svg>");
    s
}

/// The map in words, for screen readers (the page also has a table).
fn describe(opinion: &Opinion) -> String {
    if !opinion.clear {
        return format!(
            "{} people were placed by their votes; no clear groups were found.",
            opinion.placed
        );
    }
    let groups: Vec<String> = opinion
        .groups
        .iter()
        .map(|g| format!("group {} of {} people", g.label, g.size))
        .collect();
    format!(
        "{} people placed by how they voted form {} groups: {}.",
        opinion.placed,
        opinion.groups.len(),
        groups.join(", ")
    )
}
