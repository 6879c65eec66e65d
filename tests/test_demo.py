"""The README's main demo: an MLP on the bundled digits, its plot and its graph."""

import xml.etree.ElementTree as ET

from nn import demo


def test_demo_trains_well_above_chance_and_writes_its_plot_and_graph(tmp_path, capsys):
    accuracy = demo.main(["--out", str(tmp_path), "--epochs", "3", "--no-progress"])
    assert accuracy > 0.85  # chance is 0.1; three epochs are enough for this
    assert "test accuracy" in capsys.readouterr().out
    png = (tmp_path / "training.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    svg = ET.parse(tmp_path / "graph.svg").getroot()
    assert svg.tag.endswith("svg")
    text = "".join(svg.itertext())
    assert "Dense(64, 128)" in text and "loss" in text
