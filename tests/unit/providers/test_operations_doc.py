from tools import operations_doc


def test_operations_page_is_true_to_the_declarations():
    assert operations_doc.TARGET.read_text() == operations_doc.render(), (
        "docs/operations.md is out of date: run python tools/operations_doc.py")


def test_every_service_has_a_section_with_operations():
    text = operations_doc.render()
    for title in ("## Thrixel", "## Tripo3D", "## Pixal3D (Pixazo)", "## Voxel-AI"):
        section = text.split(title, 1)[1].split("\n## ", 1)[0]
        assert "| supported" in section, title
