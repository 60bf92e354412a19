"""The release fingerprint (salesdesk.release) that the dashboard's kept blocks carry: a
changed source file turns it, files that are not the app's code do not."""

from pathlib import Path

from salesdesk import release


def test_an_edited_template_turns_the_release_and_a_test_does_not(tmp_path: Path, settings):
    settings.BASE_DIR = tmp_path
    settings.DEBUG = True  # walked on each call, as under runserver
    template = tmp_path / "templates" / "page.html"
    template.parent.mkdir()
    template.write_text("<p>one</p>")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_page.py").write_text("x = 1")
    first = release.release()
    assert release.release() == first

    (tmp_path / "tests" / "test_page.py").write_text("x = 22")
    (tmp_path / "notes.txt").write_text("not code")
    assert release.release() == first

    template.write_text("<p>two, longer</p>")
    assert release.release() != first


def test_without_debug_a_process_walks_the_tree_once(tmp_path: Path, settings, monkeypatch):
    settings.DEBUG = False
    walks = []
    monkeypatch.setattr(release, "_fingerprint", lambda: walks.append(1) or "fingerprint")
    release._fingerprint_once.cache_clear()
    try:
        assert release.release() == release.release() == "fingerprint"
        assert len(walks) == 1
    finally:
        release._fingerprint_once.cache_clear()
