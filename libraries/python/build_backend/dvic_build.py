"""A minimal PEP 517 / PEP 660 build backend for the pure-Python dvic-log package.

It packs the `dvic_log` package into a py3-none-any wheel (or an sdist) with the
metadata of pyproject.toml's [project] table, and needs nothing but the standard
library, so building works without network access or setuptools.
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "dvic_log"
# Fixed times keep the archives reproducible.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
SDIST_FILES = ["pyproject.toml", "README.md", "build_backend/dvic_build.py"]


def _project():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        data = f.read()
    try:
        import tomllib
        return tomllib.loads(data.decode("utf-8"))["project"]
    except ImportError:  # Python < 3.11: the [project] table holds plain strings only
        project, section = {}, None
        for line in data.decode("utf-8").splitlines():
            header = re.match(r"^\s*\[([^\]]+)\]\s*$", line)
            if header:
                section = header.group(1).strip()
                continue
            pair = re.match(r'^\s*([A-Za-z0-9_-]+)\s*=\s*"([^"]*)"\s*$', line)
            if section == "project" and pair:
                project[pair.group(1)] = pair.group(2)
        return project


def _names():
    project = _project()
    dist = re.sub(r"[-_.]+", "_", project["name"]).lower()
    return project, dist, "%s-%s" % (dist, project["version"])


def _metadata(project):
    lines = [
        "Metadata-Version: 2.1",
        "Name: %s" % project["name"],
        "Version: %s" % project["version"],
        "Summary: %s" % project.get("description", ""),
    ]
    if "requires-python" in project:
        lines.append("Requires-Python: %s" % project["requires-python"])
    if isinstance(project.get("license"), str):
        lines.append("License: %s" % project["license"])
    readme = project.get("readme")
    body = ""
    if isinstance(readme, str):
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
            body = f.read()
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


def _package_files():
    base = os.path.join(ROOT, PACKAGE)
    out = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for filename in sorted(filenames):
            if filename.endswith((".pyc", ".pyo")):
                continue
            full = os.path.join(dirpath, filename)
            out.append((os.path.relpath(full, ROOT).replace(os.sep, "/"), full))
    return out


def _write_wheel(wheel_directory, contents):
    """contents: list of (archive name, bytes). Adds WHEEL, METADATA and RECORD."""
    project, dist, stem = _names()
    info = stem + ".dist-info"
    contents = list(contents) + [
        (info + "/METADATA", _metadata(project)),
        (info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: dvic_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    ]
    record = []
    for name, data in contents:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
    record.append(info + "/RECORD,,")
    contents.append((info + "/RECORD", ("\n".join(record) + "\n").encode()))
    filename = stem + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in contents:
            entry = zipfile.ZipInfo(name, ZIP_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, data)
    return filename


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, [(name, _read(full)) for name, full in _package_files()])


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # PEP 660: a .pth file that puts the source tree on sys.path.
    _, dist, _ = _names()
    return _write_wheel(wheel_directory, [("__editable__.%s.pth" % dist, (ROOT + "\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    project, _, stem = _names()
    filename = stem + ".tar.gz"
    files = [(rel, os.path.join(ROOT, rel)) for rel in SDIST_FILES] + _package_files()
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as tf:
        def add(name, data):
            entry = tarfile.TarInfo(stem + "/" + name)
            entry.size, entry.mode, entry.mtime = len(data), 0o644, 0
            tf.addfile(entry, io.BytesIO(data))
        for rel, full in files:
            add(rel, _read(full))
        add("PKG-INFO", _metadata(project))
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []
