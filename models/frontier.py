"""The family's trade-off: accuracy (higher is better), cost per row at batch 32 and the larger of
the demographic parity and equalized odds differences for sex (lower is better). A variant is
dominated when another is at least as good on all three and better on one."""
from __future__ import annotations

from xml.sax.saxutils import escape


def gaps(groups: dict, attr: str) -> dict:
    vals = [g for g in groups[attr].values() if g["n"] > 0]
    sr = [g["selection_rate"] for g in vals]
    tpr = [g["tpr"] for g in vals]
    fpr = [g["fpr"] for g in vals]
    dpd = max(sr) - min(sr)
    eod = max(max(tpr) - min(tpr), max(fpr) - min(fpr))
    return {"dpd": dpd, "tpr_gap": max(tpr) - min(tpr), "eod": eod}


def point(v: dict, attr: str = "sex") -> tuple[float, float, float]:
    m = v["metrics"]
    g = gaps(m["groups"], attr)
    return m["accuracy"], m["cost_us_per_row_b32"], max(g["dpd"], g["eod"])


def dominated_by(variants: list[dict]) -> dict[str, str]:
    """name -> the name of a variant that dominates it (absent: on the frontier)."""
    out = {}
    pts = {v["name"]: point(v) for v in variants}
    for a, (acc_a, cost_a, gap_a) in pts.items():
        for b, (acc_b, cost_b, gap_b) in pts.items():
            if a == b:
                continue
            if acc_b >= acc_a and cost_b <= cost_a and gap_b <= gap_a and (acc_b, cost_b, gap_b) != (acc_a, cost_a, gap_a):
                out[a] = b
                break
    return out


def svg_scatter(variants: list[dict], title: str) -> str:
    """Accuracy against cost per row (log scale), each point labelled with its max(DPD, EOD) and
    coloured by it (green fair .. red unfair). Hand-written SVG, no plotting library."""
    import math
    W, H, L, R, T, B = 640, 400, 70, 20, 40, 50
    pts = [(v["name"],) + point(v) for v in variants]
    accs = [p[1] for p in pts]
    costs = [math.log10(p[2]) for p in pts]
    a0, a1 = min(accs) - 0.005, max(accs) + 0.005
    c0, c1 = math.floor(min(costs) * 2) / 2 - 0.25, math.ceil(max(costs) * 2) / 2 + 0.25

    def x(c): return L + (c - c0) / (c1 - c0) * (W - L - R)
    def y(a): return H - B - (a - a0) / (a1 - a0) * (H - T - B)

    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
         f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="black"/>',
         f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="black"/>',
         f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">cost per row at batch 32 (µs, log scale)</text>',
         f'<text x="16" y="{(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 {(T + H - B) / 2})">accuracy on adult.test</text>']
    e = math.ceil(c0 * 2) / 2
    while e <= c1:
        s.append(f'<line x1="{x(e):.1f}" y1="{H - B}" x2="{x(e):.1f}" y2="{H - B + 5}" stroke="black"/>')
        s.append(f'<text x="{x(e):.1f}" y="{H - B + 18}" text-anchor="middle">{10 ** e:.3g}</text>')
        e += 0.5
    k = math.ceil(a0 * 100) / 100
    while k <= a1:
        s.append(f'<line x1="{L - 5}" y1="{y(k):.1f}" x2="{L}" y2="{y(k):.1f}" stroke="black"/>')
        s.append(f'<text x="{L - 8}" y="{y(k) + 4:.1f}" text-anchor="end">{k:.2f}</text>')
        k = round(k + 0.01, 2)
    for name, acc, cost, gap in pts:
        red = min(1.0, gap / 0.2)
        colour = f"rgb({int(40 + 200 * red)},{int(170 - 130 * red)},60)"
        cx, cy = x(math.log10(cost)), y(acc)
        s.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="{colour}" stroke="black"/>')
        s.append(f'<text x="{cx + 9:.1f}" y="{cy - 6:.1f}">{escape(name)} (gap {gap:.3f})</text>')
    s.append("</svg>")
    return "\n".join(s) + "\n"
