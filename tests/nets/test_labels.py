import pytest

from geovec.errors import LabelsError
from geovec.nets.labels import read_labels


def test_places_category_index(tmp_path):
    path = tmp_path / "categoryIndex_places205.csv"
    path.write_text("/b/bar 1\n/a/abbey 0\n/c/cafe 2\n")
    assert read_labels(path, 3) == ["/a/abbey", "/b/bar", "/c/cafe"]


def test_wrong_count(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("a\nb\n")
    with pytest.raises(LabelsError, match="2 labels"):
        read_labels(path, 3)


def test_repeated_index(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("/a/x 0\n/b/y 0\n")
    with pytest.raises(LabelsError, match="repeated"):
        read_labels(path, 2)
