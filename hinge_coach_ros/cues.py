"""The cue words: one table per language, read from a YAML file a clinic can edit.

ROS-free. ``config/cues.yaml`` is the shipped table; the feedback node's
``cue_file`` parameter points at a clinic's own copy and ``language`` picks
the language. A table must give words for every cue key of the alignment
engine (``alignment.CUE_FOR_FAULT``) and for the station's own messages.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from .alignment import CUE_FOR_FAULT
from .params import ParameterError

# The station's own messages, besides the corrective cues.
STATION_KEYS = ("ready", "no_person", "good_rep", "good_streak", "system_fault")
CORRECTIVE_KEYS = tuple(dict.fromkeys(CUE_FOR_FAULT.values()))
REQUIRED_KEYS = CORRECTIVE_KEYS + STATION_KEYS
CUE_FILE_NAME = "cues.yaml"


def default_cue_file() -> Path:
    """The shipped table: in the source tree, or installed under share/hinge_coach_ros/config."""
    here = Path(__file__).resolve().parent
    candidates = [here.parent / "config" / CUE_FILE_NAME]  # source tree, editable install
    if len(here.parents) > 3:  # colcon install: <prefix>/lib/python3.X/site-packages/hinge_coach_ros
        candidates.append(here.parents[3] / "share" / "hinge_coach_ros" / "config" / CUE_FILE_NAME)
    candidates.append(Path(sys.prefix) / "share" / "hinge_coach_ros" / "config" / CUE_FILE_NAME)  # pip
    for path in candidates:
        if path.is_file():
            return path
    raise ParameterError(f"the shipped {CUE_FILE_NAME} was not found; set feedback_node.cue_file")


@dataclass(frozen=True)
class CueTable:
    """Words for one language."""

    language: str
    voice: str  # espeak-ng voice
    cues: dict[str, str]
    escalated: dict[str, str]

    def text(self, key: str, escalated: bool = False) -> str:
        if not key:
            return ""
        if escalated and key in self.escalated:
            return self.escalated[key]
        return self.cues.get(key, "")


def _texts(path: Path, lang: object, section: str, body: object) -> dict[str, str]:
    """A language's ``cues`` or ``escalated`` words by cue key; ParameterError naming the key whose
    value is not text (an empty YAML value is null: it would be shown and spoken as "None")."""
    if not isinstance(body, dict):
        raise ParameterError(
            f"cue file {path}: language {lang!r}: {section!r} must be a mapping of cue key to text, "
            f"not a {type(body).__name__}"
        )
    bad = [
        f"{section}.{k} ({'null' if v is None else repr(v)})"
        for k, v in body.items()
        if not isinstance(v, str)
    ]
    if bad:
        raise ParameterError(f"cue file {path}: language {lang!r} has no text for {', '.join(bad)}")
    return {str(k): v for k, v in body.items()}


def load_languages(path: Path | None = None) -> dict[str, CueTable]:
    """Every language of a cue file, checked; ParameterError (one line) when something is missing."""
    path = Path(path) if path else default_cue_file()
    if not path.is_file():
        raise ParameterError(f"cue file {path} not found: pass an existing cue YAML (see config/cues.yaml)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ParameterError(f"cue file {path} is not valid YAML: {exc}") from None
    languages = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(languages, dict) or not languages:
        raise ParameterError(f"cue file {path} must hold a 'languages' mapping")
    tables = {}
    for lang, body in languages.items():
        if not isinstance(body, dict) or not isinstance(body.get("cues"), dict):
            raise ParameterError(f"cue file {path}: language {lang!r} must hold a 'cues' mapping")
        cues = _texts(path, lang, "cues", body["cues"])
        missing = [k for k in REQUIRED_KEYS if not cues.get(k)]
        if missing:
            raise ParameterError(f"cue file {path}: language {lang!r} has no text for {', '.join(missing)}")
        escalated = _texts(path, lang, "escalated", body.get("escalated") or {})
        unknown = sorted(set(cues) - set(REQUIRED_KEYS)) + sorted(set(escalated) - set(CORRECTIVE_KEYS))
        if unknown:
            raise ParameterError(f"cue file {path}: language {lang!r} has unknown cue keys {unknown}")
        voice = body.get("voice", lang)
        if not isinstance(voice, str) or not voice.strip():
            raise ParameterError(
                f"cue file {path}: language {lang!r}: 'voice' must be an espeak-ng voice name "
                f"such as 'en' or 'de', not {'null' if voice is None else repr(voice)}"
            )
        tables[str(lang)] = CueTable(str(lang), voice.strip(), cues, escalated)
    return tables


def load_cue_table(language: str, path: Path | None = None) -> CueTable:
    tables = load_languages(path)
    if language not in tables:
        raise ParameterError(
            f"feedback_node.language = {language!r} is not in the cue file; available: {', '.join(tables)}"
        )
    return tables[language]
