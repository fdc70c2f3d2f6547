"""The virtual dowel: one definition of the line, for the athlete's truth and for depth.

ROS-free, numpy only. The dowel is what the dowel drill puts on the back: a
straight rod held against the sacrum and resting on the outermost points of
the back. In the sagittal plane it is the posterior support line of the
back-surface profile through the sacrum: the line through the sacrum turned
back until it lies on the back, so that no point of the back lies behind it
(the tangent from the sacrum to the profile's convex hull). It touches the
back at the sacrum and at one more point (the upper contact): with a neutral
spine the back of the head and the mid back lie on it together; a rounded
upper back becomes the contact and lifts the dowel off the head; lumbar
extension deepens the hollow under it. Every gap is therefore >= 0 (a
hollow between back and dowel, in front of the line) and the tailbone gap
is 0 by definition.

On depth, the profile comes from the ``back_profile`` kernel: 3D points of
the dorsal edge at stations spaced along hip -> shoulder -> ear.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

# Where the regions lie along hip -> shoulder, as fractions of that span
# (Winter's segment lengths: lumbar 0.110 H, thoracic 0.178 H of body height H).
LUMBAR_SPAN = (0.08, 0.38)
# The dowel is held against the lowest station seen up to here: the sacrum's
# skin lies at 0.04-0.12 of hip -> shoulder (the athlete model, neutral to
# arched), and the hip-level station often meets the hands or the load.
SACRUM_UP_TO = 0.15
# The upper contact lies at least this far above the sacrum station (fraction of hip -> shoulder):
# just above the sacrum the back curves into the lumbar hollow, and there a station a few mm
# out of place (depth noise) would carry the dowel on a short lever, tilted by tens of degrees.
CONTACT_MIN_SPAN = 0.25
THORACIC_SPAN = (LUMBAR_SPAN[1], 1.0)  # the mid back: the thoracic region up to the shoulders
HEAD_FROM = 0.85  # the back of the head: from just below the ear up
# The body's sagittal plane (vertical, through the back's midline) is learned
# from the back itself, only while it spans this far horizontally (a hinge):
# an upright back is nearly vertical, so its points cannot give the plane's
# direction, and the facing from the depth-lifted feet can be tens of degrees off.
PLANE_MIN_SPAN_M = 0.10  # interquartile range of the supporting points along the plane
PLANE_INLIER_M = 0.03  # a back point this close to a candidate plane supports it
PLANE_PAIR_M = 0.05  # candidate planes run through two points at least this far apart
PLANE_WEIGHT = 0.3  # weight of a new plane direction against the one learned so far
# Stations farther than this from the plane are not the back's midline (an arm
# reaching behind the back, the far side of a prop): left out.
OFF_PLANE_M = 0.05
# A hand on the back (the drill's grip at the low back or behind the neck), a prop or a strap
# sticks out behind the back's smooth profile (``drop_protrusions``): a station this far
# behind the line through its neighbours (each within PROTRUSION_WINDOW of hip -> shoulder,
# stations up to PROTRUSION_UP_TO judged) is not the back. The back bends far less over such
# a span: the lumbar hollow is about 4 cm deep over 15-20 cm.
PROTRUSION_M = 0.02
PROTRUSION_WINDOW = 0.25
PROTRUSION_UP_TO = 2.0  # trunk, neck (where the far hand holds) and skull
# With one neighbour only (the other hidden by an arm): metres per hip -> shoulder length the
# back may run behind it (steepest out of the lumbar hollow: about 3 cm over 0.12).
PROTRUSION_SLOPE = 0.3
STEADY_FRAMES = 5  # the gaps reported are the median of this many frames (1/6 s at 30 fps)
# The spine's bend: the angle between the lower back's line (sacrum and lumbar spine) and the
# upper back's (the thoracic spine up to the shoulders), from the stations in these spans of
# hip -> shoulder. A spine that moves as one keeps it through a hinge; a rounded back bends
# the upper back forward against the lower (the athlete model: a 25 deg rounded back turns
# them 15-18 deg at the bottom). A line needs SPINE_MIN_STATIONS stations (about 6 cm).
SPINE_LOWER = (0.0, 0.45)
SPINE_UPPER = (0.6, 1.0)
SPINE_MIN_STATIONS = 3
# One frame's bend scatters by about 10 deg (a station 5 mm off turns a 10 cm line by 3 deg):
# the bend reported is the median of this many frames (0.5 s at 30 fps), once it holds
# SPINE_MIN_FRAMES measured ones.
SPINE_FRAMES = 15
SPINE_MIN_FRAMES = 5


@dataclass(frozen=True)
class BackProfile:
    """The dorsal edge of one frame, as the back_profile kernel finds it."""

    points: np.ndarray  # (K, 3) metres, same frame as the skeleton
    valid: np.ndarray  # (K,) bool
    fractions: np.ndarray  # (K,) 0 hips, 1 shoulders, 1-2 shoulders to ear (station_fractions)
    # Measured in depth; False: the person mask's contour on RGB only, placed on the sagittal
    # plane at the skeleton's scale (its gaps are reported, its spine bend is not judged).
    from_depth: bool = True


@dataclass(frozen=True)
class DowelMetrics:
    head_gap_m: float
    mid_back_gap_m: float
    tailbone_gap_m: float
    lumbar_gap_m: float
    # Lower back line to upper back line (``spine_bend_deg``), flexion positive; NaN unseen.
    spine_bend_deg: float = math.nan
    # The low back's hollow under the trunk's own support line (``lumbar_hollow_m``); NaN unseen.
    lumbar_hollow_m: float = math.nan

    def gaps(self) -> tuple[float, float, float, float]:
        return (self.head_gap_m, self.mid_back_gap_m, self.tailbone_gap_m, self.lumbar_gap_m)


def station_fractions(station_uv: np.ndarray, axis_uv: np.ndarray) -> np.ndarray:
    """Each station's position: 0 at the hips, 1 at the shoulders, beyond 1 toward the head
    (1 + fraction of shoulder -> ear)."""
    hip, shoulder = axis_uv[0], axis_uv[1]
    trunk = np.linalg.norm(shoulder - hip)
    along_trunk = (station_uv - hip) @ (shoulder - hip) / max(trunk**2, 1e-9)
    if len(axis_uv) < 3:
        return along_trunk
    neck = axis_uv[2] - shoulder
    along_neck = (station_uv - shoulder) @ neck / max(float(neck @ neck), 1e-9)
    return np.where(along_trunk <= 1.0, along_trunk, 1.0 + np.clip(along_neck, 0.0, 1.0))


@dataclass(frozen=True)
class DowelLine:
    """The dowel in sagittal coordinates (forward, up), metres."""

    point: np.ndarray  # (2,) where it rests on the sacrum
    direction: np.ndarray  # (2,) unit, from the sacrum up the back
    back_normal: np.ndarray  # (2,) unit normal pointing behind the athlete
    contact: int  # index of the upper contact point (in the points given)

    def gaps(self, points: np.ndarray) -> np.ndarray:
        """Distance of each point in front of the dowel (a hollow under it), metres."""
        return (self.point - np.asarray(points, dtype=float)) @ self.back_normal


def support_line(sagittal: np.ndarray, sacrum: int, candidates: np.ndarray | None = None) -> DowelLine | None:
    """The dowel resting on a back profile: the posterior support line through the sacrum.

    ``sagittal`` (K, 2) are back-surface points, forward then up (the athlete
    faces +forward); ``sacrum`` is the index of the point the dowel is held
    against; ``candidates`` the indices it may rest on (default: all). The
    line through the sacrum is turned toward the back until every candidate
    above the sacrum (along the trunk) is on or in front of it; the candidate
    it stops on is the upper contact. None when no candidate lies above the
    sacrum.
    """
    p = np.asarray(sagittal, dtype=float)
    idx = np.arange(len(p)) if candidates is None else np.asarray(candidates, dtype=int)
    idx = idx[(idx != sacrum) & np.isfinite(p[idx]).all(axis=1)]
    if len(idx) == 0:
        return None
    v = p[idx] - p[sacrum]
    reach = np.linalg.norm(v, axis=1)
    if reach.max() < 1e-6:
        return None
    along = v[np.argmax(reach)] / reach.max()  # up the trunk, toward the farthest point
    behind = np.array([-along[1], along[0]])  # posterior for a line going up the back, facing forward
    above = v @ along > 1e-6
    if not above.any():
        return None
    # The angle of each point seen from the sacrum, measured toward the back:
    # the largest one is where the turning dowel stops.
    angle = np.where(above, np.arctan2(v @ behind, v @ along), -np.inf)
    k = int(np.argmax(angle))
    direction = v[k] / np.linalg.norm(v[k])
    back_normal = np.array([-direction[1], direction[0]])
    return DowelLine(p[sacrum].copy(), direction, back_normal, int(idx[k]))


def lumbar_hollow_m(sagittal: np.ndarray, sacrum: int, trunk: np.ndarray, lumbar: np.ndarray) -> float:
    """The lumbar lordosis as the dowel shows it, whatever the head does (metres, or NaN).

    The deepest of the ``lumbar`` points in front of the support line from the ``sacrum``
    over the ``trunk`` points (up to the shoulders; neck and head left out). With a neutral
    spine the head lies on the dowel and this is the lumbar gap; a head tipped back lifts
    the dowel off the mid back and opens the lumbar gap (by 5-12 mm on the athlete) but
    not this hollow. An anterior pelvic tilt deepens it: the pelvis tips forward and the
    lumbar spine extends by as much (1.1 mm per degree on the athlete, from 39 mm neutral).
    """
    line = support_line(sagittal, sacrum, trunk)
    if line is None or len(lumbar) == 0:
        return math.nan
    return float(line.gaps(sagittal[lumbar]).max())


def measure(
    points: np.ndarray, valid: np.ndarray, fractions: np.ndarray, up: np.ndarray, facing: np.ndarray
) -> DowelMetrics | None:
    """Dowel gaps from profile points (K, 3); None when a contact point is not seen.

    The dowel rests on the sacrum station (the lowest, at hip level) and on the
    trunk and head stations (the neck is left out: the drill's far hand holds
    the dowel there). The mid-back gap is the thoracic region's closest approach
    to the dowel, the head gap the back of the head's, the lumbar gap the
    deepest hollow of the low back.
    """
    ok = valid & np.isfinite(points).all(axis=1) & np.isfinite(fractions)
    if ok.sum() < 4:
        return None
    # Sagittal coordinates: forward along facing, up along gravity.
    sag = np.stack([points @ facing, points @ up], axis=1)
    trunk_idx = np.where(ok & (fractions <= 1.0))[0]
    head_idx = np.where(ok & (fractions >= 1.0 + HEAD_FROM))[0]
    lumbar_idx = np.where(ok & (fractions >= LUMBAR_SPAN[0]) & (fractions <= LUMBAR_SPAN[1]))[0]
    mid_idx = np.where(ok & (fractions > THORACIC_SPAN[0]) & (fractions <= THORACIC_SPAN[1]))[0]
    if len(trunk_idx) < 3 or len(head_idx) == 0 or len(lumbar_idx) == 0 or len(mid_idx) == 0:
        return None
    sacrum_i = trunk_idx[np.argmin(fractions[trunk_idx])]
    if fractions[sacrum_i] > SACRUM_UP_TO:
        return None  # nothing seen low enough to hold the dowel against
    upper = trunk_idx[fractions[trunk_idx] >= fractions[sacrum_i] + CONTACT_MIN_SPAN]
    line = support_line(sag, int(sacrum_i), np.concatenate([upper, head_idx]))
    if line is None:
        return None
    gaps = line.gaps(sag)
    return DowelMetrics(
        head_gap_m=float(gaps[head_idx].min()),
        mid_back_gap_m=float(gaps[mid_idx].min()),
        tailbone_gap_m=float(gaps[sacrum_i]),
        lumbar_gap_m=float(gaps[lumbar_idx].max()),
        lumbar_hollow_m=lumbar_hollow_m(sag, int(sacrum_i), upper, lumbar_idx),
    )


NOT_SEEN = DowelMetrics(math.nan, math.nan, math.nan, math.nan)


def spine_bend_deg(
    points: np.ndarray, on_back: np.ndarray, fractions: np.ndarray, across: np.ndarray
) -> float:
    """Angle from the lower back's line to the upper back's (degrees, flexion positive), or NaN.

    Each line is the principal direction of the back stations (K, 3) in its span
    (``SPINE_LOWER``, ``SPINE_UPPER``), taken in 3D: the angle between them does
    not depend on the sagittal plane being known (it is not, standing tall). The
    sign comes from ``across``, the body's left-to-right axis (up x forward): the
    upper line turned forward against the lower one is flexion. Absolute values
    depend on the person's build and curves; a change from standing is what counts.
    """
    lines = []
    for lo, hi in (SPINE_LOWER, SPINE_UPPER):
        m = on_back & (fractions >= lo) & (fractions <= hi)
        if m.sum() < SPINE_MIN_STATIONS:
            return math.nan
        centred = points[m] - points[m].mean(axis=0)
        direction = np.linalg.svd(centred)[2][0]
        # Up the back, hips to shoulders, as the fractions run.
        if (points[m] @ direction) @ (fractions[m] - fractions[m].mean()) < 0:
            direction = -direction
        lines.append(direction)
    lower, upper = lines
    angle = math.degrees(math.acos(float(np.clip(lower @ upper, -1.0, 1.0))))
    return angle if np.cross(lower, upper) @ across >= 0 else -angle


def drop_protrusions(sagittal: np.ndarray, ok: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """``ok`` without the stations that stick out behind their neighbours along the back.

    A station's excess is how far it lies behind the straight line joining the nearest kept
    stations below and above it (each within PROTRUSION_WINDOW), or, with one of them only,
    behind that one by more than the back's steepest run (PROTRUSION_SLOPE). The worst one
    over PROTRUSION_M goes, then the rest are judged again, so a two-station hand goes too.
    A curved back has almost no excess over so short a span (its hollows lie in front of the
    line, its humps a few mm behind), nor has the skull between its stations about 1 cm apart
    (all at fraction 2, kept in scan order): a far hand or elbow, a prop's end beyond it has.
    """
    keep = ok.copy()
    trunk = np.where(ok & (fractions <= PROTRUSION_UP_TO))[0]
    if len(trunk) < 3:
        return keep
    p = sagittal[trunk]
    direction = np.linalg.svd(p - p.mean(axis=0))[2][0]
    if direction[1] < 0:
        direction = -direction  # up the back
    behind = p @ np.array([-direction[1], direction[0]])
    order = np.argsort(fractions[trunk], kind="stable")  # stations at the ear and beyond: in scan order
    f, behind, trunk = fractions[trunk][order], behind[order], trunk[order]
    alive = np.ones(len(trunk), dtype=bool)
    while True:
        live = np.where(alive)[0]
        excess = np.full(len(live), -np.inf)
        for j, mid in enumerate(live):
            lo = live[j - 1] if j > 0 and f[mid] - f[live[j - 1]] <= PROTRUSION_WINDOW else None
            hi = live[j + 1] if j + 1 < len(live) and f[live[j + 1]] - f[mid] <= PROTRUSION_WINDOW else None
            if lo is not None and hi is not None and f[hi] > f[lo]:
                t = (f[mid] - f[lo]) / (f[hi] - f[lo])
                excess[j] = behind[mid] - ((1.0 - t) * behind[lo] + t * behind[hi])
            elif lo is not None or hi is not None:
                # One side seen (the other hidden by the arm): the back may run away from it
                # by up to PROTRUSION_SLOPE.
                nb = lo if lo is not None else hi
                excess[j] = behind[mid] - behind[nb] - PROTRUSION_SLOPE * abs(f[mid] - f[nb])
        worst = int(np.argmax(excess)) if len(excess) else 0
        if len(excess) == 0 or excess[worst] <= PROTRUSION_M:
            break
        alive[live[worst]] = False
        keep[trunk[live[worst]]] = False
    return keep


def sagittal_direction(points: np.ndarray, ok: np.ndarray, up: np.ndarray) -> np.ndarray | None:
    """Horizontal direction of the vertical plane through most of the back's points, or None.

    Every pair of points at least PLANE_PAIR_M apart (horizontally) is a
    candidate; the one most points lie near wins (fewest summed distances on
    ties), refined by the principal direction of its supporters. None unless
    the supporters spread along it by PLANE_MIN_SPAN_M (interquartile range):
    an upright back, or an arm beside it, is not enough. The sign is arbitrary.
    """
    idx = np.where(ok)[0]
    if len(idx) < 6:
        return None
    h = points[idx] - np.outer(points[idx] @ up, up)
    d = h[None, :, :] - h[:, None, :]  # (a, b): from point a to point b
    span = np.linalg.norm(d, axis=2)
    a, b = np.where(np.triu(span >= PLANE_PAIR_M, 1))
    if len(a) == 0:
        return None
    across = np.cross(up, d[a, b] / span[a, b, None])  # (pairs, 3) normal of each candidate plane
    dist = np.abs(np.einsum("pkc,pc->pk", d[a], across))  # (pairs, points)
    near = dist < PLANE_INLIER_M
    count = near.sum(axis=1)
    spread = np.where(near, dist, 0.0).sum(axis=1)
    # Most supporters first, then the smallest summed distance.
    best = np.lexsort((spread, -count))[0]
    if count[best] < 6:
        return None
    support = h[near[best]]
    centred = support - support.mean(axis=0)
    direction = np.linalg.svd(centred)[2][0]
    lo, hi = np.percentile(centred @ direction, [25, 75])
    if hi - lo < PLANE_MIN_SPAN_M:
        return None
    direction = direction - (direction @ up) * up
    return direction / np.linalg.norm(direction)


class DowelMeter:
    """The virtual dowel from depth, frame after frame.

    Learns the sagittal plane from hinged frames (``sagittal_direction``) and
    keeps it while the person stays (before the first hinge: the skeleton's
    facing); measures each frame on the back stations in that plane; reports
    the median of the last STEADY_FRAMES frames.
    """

    def __init__(self, frames: int = STEADY_FRAMES) -> None:
        self._recent: deque[np.ndarray] = deque(maxlen=frames)
        self._bends: deque[float] = deque(maxlen=SPINE_FRAMES)
        self.forward: np.ndarray | None = None  # learned sagittal direction (unit, horizontal)

    def reset(self) -> None:
        self._recent.clear()
        self._bends.clear()
        self.forward = None

    def update(self, back: BackProfile | None, up: np.ndarray, facing: np.ndarray) -> DowelMetrics:
        metrics, bend = None, math.nan
        if back is not None:
            metrics, bend = self._measure(back, up, facing)
        self._recent.append(
            np.array([*metrics.gaps(), metrics.lumbar_hollow_m])
            if metrics is not None
            else np.full(5, np.nan)
        )
        self._bends.append(bend)
        bends = np.array(self._bends)
        bends = bends[np.isfinite(bends)]
        steady_bend = float(np.median(bends)) if len(bends) >= SPINE_MIN_FRAMES else math.nan
        recent = np.array(self._recent)
        seen = np.isfinite(recent[:, :4]).all(axis=1)
        gaps = np.median(recent[seen, :4], axis=0) if seen.any() else np.full(4, np.nan)
        hollows = recent[:, 4][np.isfinite(recent[:, 4])]
        hollow = float(np.median(hollows)) if len(hollows) else math.nan
        return DowelMetrics(*(float(v) for v in gaps), spine_bend_deg=steady_bend, lumbar_hollow_m=hollow)

    def _measure(
        self, back: BackProfile, up: np.ndarray, facing: np.ndarray
    ) -> tuple[DowelMetrics | None, float]:
        """This frame's gaps (None: a contact point unseen) and spine bend (NaN: unseen)."""
        ok = back.valid & np.isfinite(back.points).all(axis=1) & np.isfinite(back.fractions)
        if ok.sum() < 4:
            return None, math.nan
        learned = sagittal_direction(back.points, ok, up)
        if learned is not None:
            if learned @ facing < 0:
                learned = -learned
            if self.forward is not None:
                learned = (1.0 - PLANE_WEIGHT) * self.forward + PLANE_WEIGHT * learned
            self.forward = learned / np.linalg.norm(learned)
        forward = self.forward if self.forward is not None else facing
        across = np.cross(up, forward)
        lateral = back.points[ok] @ across
        in_plane = ok.copy()
        in_plane[ok] = np.abs(lateral - np.median(lateral)) < OFF_PLANE_M
        sagittal = np.stack([back.points @ forward, back.points @ up], axis=1)
        on_back = drop_protrusions(sagittal, in_plane, back.fractions)
        metrics = measure(back.points, on_back, back.fractions, up, forward)
        if not back.from_depth:
            # The RGB mask's outline gives the dowel's gaps; its bend and hollow are not validated.
            if metrics is not None:
                metrics = replace(metrics, lumbar_hollow_m=math.nan)
            return metrics, math.nan
        return metrics, spine_bend_deg(back.points, on_back, back.fractions, across)
