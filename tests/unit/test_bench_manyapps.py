"""The scale scenarios' fleet layout: names, directories, objects and the kubectl sample."""

from __future__ import annotations

import yaml
from bench.manyapps import Layout


def test_a_layout_names_small_apps_first_then_large_ones_under_its_prefix() -> None:
    layout = Layout(small=3, large=2, objects_per_large=4, prefix="s9")
    assert layout.names() == ["s9-s-00000", "s9-s-00001", "s9-s-00002", "s9-l-0000", "s9-l-0001"]
    assert layout.size == 5
    assert layout.objects == 3 + 2 * 4
    assert layout.path(4) == "s9/l-0001"


def test_each_app_file_holds_its_own_configmaps() -> None:
    layout = Layout(small=1, large=1, objects_per_large=3, prefix="p")
    files = layout.files()
    assert set(files) == {"p/s-00000/cms.yaml", "p/l-0000/cms.yaml"}
    docs = [d for d in yaml.safe_load_all(files["p/l-0000/cms.yaml"]) if d]
    assert [d["metadata"]["name"] for d in docs] == ["p-l-0000-0", "p-l-0000-1", "p-l-0000-2"]


def test_an_application_is_auto_synced_from_its_directory_into_the_destination() -> None:
    app = Layout(small=1, prefix="p", dest="d", namespace="n").application(0, "git://r")
    assert app["metadata"]["namespace"] == "n"
    assert app["spec"]["source"]["path"] == "p/s-00000"
    assert app["spec"]["destination"]["namespace"] == "d"
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": False}


def test_the_sample_takes_every_nth_small_and_every_nth_large_app() -> None:
    layout = Layout(small=25, large=12)
    assert layout.sample(10) == [0, 10, 20, 25, 35]
