"""Progress on stderr only for a person at a terminal."""
from __future__ import annotations

import io

from engine.dataset import load_dataset
from engine.progress import terminal_progress
from helpers import write_dataset


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_no_progress_when_not_a_terminal():
    assert terminal_progress(io.StringIO()) is None


def test_a_load_reports_its_steps_and_ends_its_line(tmp_path, pipeline):
    out = Tty()
    folder = write_dataset(tmp_path, reps=[{"rep_id": "R1", "name": "A", "role": "isr", "team": "T",
                                            "division": "D", "manager": "M"}],
                           opportunities=[{"opportunity_id": "O1", "rep_id": "R1", "created_date": "2026-01-02",
                                           "status": "open", "stage": "demo", "amount": "1", "close_date": "",
                                           "loss_reason": "", "source_rep_id": ""}])
    load_dataset(folder, pipeline, progress=terminal_progress(out))
    text = out.getvalue()
    assert "reading reps.csv" in text and "reading opportunities.csv" in text
    assert text.endswith("loaded: done\n")
