"""Cue words in every language, and the full cue policy: priority, dwell, cooldown, escalation, praise."""

from pathlib import Path

import pytest
import yaml

from hinge_coach_ros.alignment import CUE_FOR_FAULT
from hinge_coach_ros.athlete import FAULT_IDS
from hinge_coach_ros.cues import REQUIRED_KEYS, default_cue_file, load_cue_table, load_languages
from hinge_coach_ros.feedback import CUE_PRIORITY, CuePolicy, ReportView, RepView
from hinge_coach_ros.params import ParameterError


def report(phase="descent", cues=None, person=True):
    return ReportView(person=person, phase=phase, rep_count=0, hip_flexion_deg=40.0, active_cues=cues or {})


def rep(faults=None, index=1):
    return RepView(index, 60.0 if faults else 100.0, 80.0, 60.0, 20.0, 2.0, faults or {})


def test_every_fault_has_a_cue_key_with_words_and_a_priority():
    for fault in (*FAULT_IDS, "hips_rise_first", "hips_high"):
        assert fault in CUE_FOR_FAULT, fault
        assert CUE_FOR_FAULT[fault] in CUE_PRIORITY
    tables = load_languages()
    assert {"en", "de", "es"} <= set(tables)
    for table in tables.values():
        for key in REQUIRED_KEYS:
            assert table.text(key), (table.language, key)


def test_article_wording_and_languages():
    en, de = load_cue_table("en"), load_cue_table("de")
    assert en.text(CUE_FOR_FAULT["no_brace"]) == "Ribs down, brace"
    assert en.text(CUE_FOR_FAULT["rounded_back"]) == "Head, mid back, tailbone on the line"
    assert en.text(CUE_FOR_FAULT["banana_back"]) == "No banana back: squeeze the glutes to finish"
    assert "whole foot" in en.text(CUE_FOR_FAULT["toes"])
    assert de.text("hips_back").startswith("Hüfte nach hinten") and de.voice == "de"
    assert en.text("hips_back", escalated=True) != en.text("hips_back")


def test_cue_file_errors_are_one_line(tmp_path):
    with pytest.raises(ParameterError, match="available: en, de, es"):
        load_cue_table("fr")
    bad = tmp_path / "cues.yaml"
    bad.write_text("languages:\n  en:\n    cues:\n      hips_back: Hips back\n")
    with pytest.raises(ParameterError, match="has no text for neutral_spine"):
        load_cue_table("en", bad)
    with pytest.raises(ParameterError, match="not found"):
        load_cue_table("en", tmp_path / "missing.yaml")


def _shipped_with(tmp_path, change) -> Path:
    """A copy of the shipped cue file with ``change(languages)`` applied."""
    data = yaml.safe_load(default_cue_file().read_text(encoding="utf-8"))
    change(data["languages"])
    path = tmp_path / "cues.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda langs: langs["en"]["cues"].update(neutral_spine=None),
            "language 'en' has no text for cues.neutral_spine (null)",
        ),
        (lambda langs: langs["de"]["cues"].update(ready=42), "language 'de' has no text for cues.ready (42)"),
        (
            lambda langs: langs["en"]["escalated"].update(hips_back=None),
            "language 'en' has no text for escalated.hips_back (null)",
        ),
        (
            lambda langs: langs["es"]["escalated"].update(slow_down=["Despacio"]),
            "language 'es' has no text for escalated.slow_down (['Despacio'])",
        ),
        (
            lambda langs: langs["en"].update(escalated=["Brace now"]),
            "language 'en': 'escalated' must be a mapping of cue key to text, not a list",
        ),
        (
            lambda langs: langs["de"].update(voice=None),
            "language 'de': 'voice' must be an espeak-ng voice name such as 'en' or 'de', not null",
        ),
        (
            lambda langs: langs["es"].update(voice=3),
            "language 'es': 'voice' must be an espeak-ng voice name such as 'en' or 'de', not 3",
        ),
    ],
)
def test_a_cue_value_that_is_not_text_is_refused_naming_the_file_and_key(tmp_path, change, message):
    path = _shipped_with(tmp_path, change)
    with pytest.raises(ParameterError) as refused:
        load_languages(path)
    assert str(refused.value) == f"cue file {path}: {message}"


def test_a_shipped_copy_without_escalated_words_still_loads(tmp_path):
    path = _shipped_with(tmp_path, lambda langs: langs["en"].update(escalated=None))
    table = load_cue_table("en", path)
    assert table.escalated == {} and table.text("hips_back", escalated=True) == table.text("hips_back")


def test_back_safety_preempts_and_shows_red():
    p = CuePolicy(cue_min_dwell_s=1.0)
    p.on_report(0.0, report(cues={"squat": "hips_back"}))
    assert (p.led_state, p.cue_key) == ("cue", "hips_back")
    # A rounded back during the dwell of a lesser cue replaces it at once.
    p.on_report(0.2, report(cues={"squat": "hips_back", "rounded_back": "neutral_spine"}))
    assert (p.led_state, p.cue_key) == ("warning", "neutral_spine")
    assert p.cue_text == "Head, mid back, tailbone on the line"
    # A lesser cue does not replace it within the dwell.
    p.on_report(0.5, report(cues={"squat": "hips_back"}))
    assert p.cue_key == "neutral_spine"
    p.on_report(1.3, report(cues={"squat": "hips_back"}))
    assert (p.led_state, p.cue_key) == ("cue", "hips_back")


def test_cooldown_keeps_a_different_cue_back_but_not_a_safety_cue():
    p = CuePolicy(cue_min_dwell_s=0.5, cue_cooldown_s=2.0)
    p.on_report(0.0, report(cues={"toes": "whole_foot_toes"}))
    p.on_report(1.0, report())  # cue ends at 1.0
    assert p.led_state == "good"
    p.on_report(1.5, report(cues={"head_up": "chin_tucked"}))  # different cue within the cooldown
    assert p.led_state == "good"
    p.on_report(1.6, report(cues={"toes": "whole_foot_toes"}))  # the same cue may come back
    assert p.cue_key == "whole_foot_toes"
    p.on_report(2.2, report())
    p.on_report(2.3, report(cues={"banana_back": "no_banana_back"}))  # safety never waits
    assert (p.led_state, p.cue_key) == ("warning", "no_banana_back")
    p.on_report(3.0, report())
    p.on_report(5.1, report(cues={"head_up": "chin_tucked"}))  # cooldown over
    assert p.cue_key == "chin_tucked"


def test_repeated_fault_escalates_and_clean_streak_is_praised():
    p = CuePolicy(cue_min_dwell_s=0.5, rep_result_hold_s=1.0, escalate_after_reps=2, praise_streak_reps=3)
    p.on_rep(0.0, rep({"squat": 1.0}, 1))
    assert p.cue_key == "hips_back" and not p.escalated and p.pattern.kind == "solid"
    p.on_rep(5.0, rep({"squat": 1.0}, 2))
    assert p.escalated and p.pattern.kind == "blink"
    assert p.cue_text == "Again: push the hips back to the wall behind you"
    p.on_report(5.2, report(cues={"squat": "hips_back"}))
    assert p.escalated  # the live cue during the next rep is the escalated one too
    p.on_rep(10.0, rep(None, 3))
    assert (p.cue_key, p.escalated) == ("good_rep", False)
    p.on_rep(15.0, rep(None, 4))
    p.on_rep(20.0, rep(None, 5))
    assert p.cue_key == "good_streak" and p.cue_text == "Great hinge: keep it going!"


def test_system_fault_holds_magenta_until_cleared():
    p = CuePolicy()
    p.set_system_fault(0.0, True)
    p.on_report(0.1, report(cues={"squat": "hips_back"}))
    assert p.led_state == "system_fault" and p.cue_text == "Station paused: please call staff"
    p.set_system_fault(1.0, False)
    p.on_report(2.5, report(phase="setup"))
    assert p.led_state == "ready"


def test_policy_speaks_german_when_asked():
    p = CuePolicy(table=load_cue_table("de"))
    p.on_report(0.0, report(cues={"no_brace": "ribs_down"}))
    assert p.cue_text == "Rippen runter, Rumpf anspannen"
