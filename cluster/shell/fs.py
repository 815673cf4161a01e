"""The container file system: an image's read-only layer, an upper layer of changes, mounts.

Files: `FileSystem` is an overlay: a read-only image layer (rebuilt from the image name, never
serialised) and a small upper layer of changes (`to_json`). `mount(path, other_fs)` shares one
FileSystem (an emptyDir) between containers. Commands exist only if the image has them in
$PATH (busybox has no `curl`, as in real life); `FileSystem()` is an empty volume, not an image.
"""

from __future__ import annotations

import copy
import posixpath

APPLET_MARK = "\x7fELF "      # content of an image's executables: the marker + the applet name


class FsError(Exception):
    """A failed file operation; str() is the strerror text ("No such file or directory")."""


ENOENT = "No such file or directory"
EEXIST = "File exists"
EISDIR = "Is a directory"
ENOTDIR = "Not a directory"
ENOTEMPTY = "Directory not empty"
EROFS = "Read-only file system"
EBUSY = "Resource busy"


def norm(path: str, cwd: str = "/") -> str:
    """An absolute, normalised path: `..`, `.` and repeated slashes resolved."""
    if not path.startswith("/"):
        path = cwd.rstrip("/") + "/" + path
    out: list[str] = []
    for piece in path.split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if out:
                out.pop()
        else:
            out.append(piece)
    return "/" + "/".join(out)


def _parent(path: str) -> str:
    return posixpath.dirname(path) or "/"


IMAGE_TIME = 1727308800.0     # mtime of image files (2024-09-26, busybox 1.37's release)

_BUSYBOX_BIN = ("[ [[ ash basename cat cp date dirname echo env false grep head hostname id kill "
                "ls mkdir mv printenv printf pwd rm rmdir seq sh sleep tail tee test touch true "
                "uname wc wget which whoami").split()
_DEBIAN_BIN = ("[ bash basename cat cp dash date dirname echo env false grep head hostname id "
               "kill ls mkdir mv printenv printf pwd rm rmdir seq sh sleep tail tee test touch "
               "true uname wc which whoami").split()
_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
_LAYERS_SPEC = {
    "busybox": {
        "dirs": "/bin /dev /etc /home /lib /lib64 /proc /root /sys /tmp /usr /usr/sbin /var "
                "/var/spool /var/spool/mail /var/www".split(),
        "bin": {"/bin": _BUSYBOX_BIN},
        "files": {"/etc/passwd": _PASSWD, "/etc/group": "root:x:0:\nnobody:x:65534:\n"},
    },
    "alpine": {
        "dirs": "/bin /dev /etc /home /lib /media /mnt /opt /proc /root /run /sbin /srv /sys "
                "/tmp /usr /usr/bin /usr/lib /usr/local /usr/local/bin /usr/sbin /usr/share /var "
                "/var/cache /var/lib /var/log /var/tmp".split(),
        "bin": {"/bin": _BUSYBOX_BIN},
        "files": {"/etc/passwd": _PASSWD, "/etc/alpine-release": "3.21.0\n",
                  "/etc/os-release": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.21.0\n'},
    },
    "debian": {
        "dirs": "/bin /boot /dev /etc /home /lib /media /mnt /opt /proc /root /run /sbin /srv "
                "/sys /tmp /usr /usr/bin /usr/lib /usr/local /usr/local/bin /usr/sbin /var "
                "/var/cache /var/lib /var/log /var/tmp".split(),
        "bin": {"/usr/bin": _DEBIAN_BIN},
        "files": {"/etc/passwd": _PASSWD, "/etc/debian_version": "12.8\n",
                  "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'},
    },
}
_LAYERS_SPEC["node"] = dict(_LAYERS_SPEC["debian"],
                            bin={"/usr/bin": _DEBIAN_BIN + ["curl", "wget"],
                                 "/usr/local/bin": ["node", "npm"]})
_LAYERS_SPEC["nginx"] = dict(_LAYERS_SPEC["debian"],
                             bin={"/usr/bin": _DEBIAN_BIN + ["curl"], "/usr/sbin": ["nginx"]},
                             dirs=_LAYERS_SPEC["debian"]["dirs"] + ["/usr/share/nginx",
                                                                    "/usr/share/nginx/html"])
_layer_cache: dict = {}


def _layer(image: str | None):
    """(entries, children) of an image's read-only layer, built once."""
    if image in _layer_cache:
        return _layer_cache[image]
    if image is not None and image not in _LAYERS_SPEC:
        raise ValueError(f"unknown image layer {image!r} (one of {sorted(_LAYERS_SPEC)})")
    entries = {"/": ["d", IMAGE_TIME]}
    spec = _LAYERS_SPEC.get(image, {})
    for d in spec.get("dirs", []):
        entries[d] = ["d", IMAGE_TIME]
    for d, names in spec.get("bin", {}).items():
        entries[d] = ["d", IMAGE_TIME]
        for name in names:
            entries[f"{d}/{name}"] = ["x", IMAGE_TIME, APPLET_MARK + name]
    for path, text in spec.get("files", {}).items():
        entries[path] = ["f", IMAGE_TIME, text]
    children: dict[str, set] = {}
    for path in entries:
        if path != "/":
            children.setdefault(_parent(path), set()).add(posixpath.basename(path))
    _layer_cache[image] = (entries, children)
    return entries, children


class FileSystem:
    """A container's files: an image layer, an upper layer of changes, and mounts.

    Entries are lists: ["d", mtime] a directory, ["f", mtime, text] a file, ["x", mtime, text]
    an executable. All paths given to methods are absolute (see `norm`).
    """

    def __init__(self, image: str | None = None):
        self.image = image
        self._lower, self._lower_children = _layer(image)
        self._upper: dict[str, list] = {}
        self._deleted: set[str] = set()
        self._mounts: dict[str, tuple] = {}

    # serialisation -----------------------------------------------------------------------
    def to_json(self) -> dict:
        """The changes made to the image (mounts are not included: re-mount after loading)."""
        return {"image": self.image, "upper": copy.deepcopy(self._upper),
                "deleted": sorted(self._deleted)}

    @classmethod
    def from_json(cls, data: dict | None) -> "FileSystem":
        data = data or {}
        fs = cls(data.get("image"))
        fs._upper = copy.deepcopy(data.get("upper", {}))
        fs._deleted = set(data.get("deleted", []))
        return fs

    # mounts ------------------------------------------------------------------------------
    def mount(self, path: str, other: "FileSystem", source: str = "/", readonly: bool = False):
        """Mount `other` (e.g. an emptyDir shared by two containers) at `path`."""
        self._mounts[norm(path)] = (other, norm(source), readonly)

    def umount(self, path: str):
        self._mounts.pop(norm(path), None)

    def _mount_for(self, path: str):
        best = None
        for mp in self._mounts:
            if (path == mp or path.startswith(mp.rstrip("/") + "/")) and (
                    best is None or len(mp) > len(best)):
                best = mp
        if best is None:
            return None
        other, source, ro = self._mounts[best]
        rest = path[len(best):] if best != "/" else path
        return other, norm(source + "/" + rest), ro, best

    # local (unmounted) layer access ------------------------------------------------------
    def _get(self, path: str):
        if path in self._upper:
            return self._upper[path]
        if path in self._deleted:
            return None
        return self._lower.get(path)

    def _local_children(self, path: str) -> set[str]:
        names = {n for n in self._lower_children.get(path, ())
                 if (path.rstrip("/") + "/" + n) not in self._deleted}
        prefix = path.rstrip("/") + "/"
        for p in self._upper:
            if p.startswith(prefix) and "/" not in p[len(prefix):] and p != "/":
                names.add(p[len(prefix):])
        return names

    def _descendants(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        found = {p for p in self._upper if p.startswith(prefix)}
        found |= {p for p in self._lower if p.startswith(prefix) and p not in self._deleted}
        return sorted(found)

    # queries -----------------------------------------------------------------------------
    def stat(self, path: str):
        """The entry at `path` (["d", t] / ["f", t, text] / ["x", t, text]) or None."""
        m = self._mount_for(path)
        if m:
            return m[0].stat(m[1])
        entry = self._get(path)
        if entry is None and any(_parent(mp) == path or mp.startswith(path.rstrip("/") + "/")
                                 for mp in self._mounts):
            return ["d", IMAGE_TIME]    # a mount point's missing parents act as directories
        return entry

    def exists(self, path: str) -> bool:
        return self.stat(path) is not None

    def is_dir(self, path: str) -> bool:
        e = self.stat(path)
        return e is not None and e[0] == "d"

    def is_file(self, path: str) -> bool:
        e = self.stat(path)
        return e is not None and e[0] != "d"

    def listdir(self, path: str) -> list[str]:
        m = self._mount_for(path)
        if m:
            names = set(m[0].listdir(m[1]))
        else:
            e = self._get(path)
            if e is None and not self.stat(path):
                raise FsError(ENOENT)
            if e is not None and e[0] != "d":
                raise FsError(ENOTDIR)
            names = self._local_children(path)
        prefix = path.rstrip("/") + "/"
        for mp in self._mounts:
            if mp.startswith(prefix) and mp != path:
                names.add(mp[len(prefix):].split("/", 1)[0])
        return sorted(names)

    def read(self, path: str) -> str:
        e = self.stat(path)
        if e is None:
            self._check_parent_dirs(path)
            raise FsError(ENOENT)
        if e[0] == "d":
            raise FsError(EISDIR)
        return e[2]

    def _check_parent_dirs(self, path: str):
        """Raise ENOTDIR if a path component is a file, ENOENT if the parent is missing."""
        parent = _parent(path)
        if parent == path:
            return
        e = self.stat(parent)
        if e is None:
            raise FsError(ENOENT)
        if e[0] != "d":
            raise FsError(ENOTDIR)

    # changes -----------------------------------------------------------------------------
    def _writable(self, path: str):
        """(fs, local path) that a change to `path` goes to; raises on a read-only mount."""
        m = self._mount_for(path)
        if m:
            if m[2]:
                raise FsError(EROFS)
            return m[0]._writable(m[1])
        return self, path

    def write(self, path: str, text: str, append: bool = False, t: float = 0.0):
        e = self.stat(path)
        if e is not None and e[0] == "d":
            raise FsError(EISDIR)
        if e is None:
            self._check_parent_dirs(path)
        fs, local = self._writable(path)
        old = e[2] if (e is not None and append) else ""
        kind = e[0] if e is not None else "f"
        fs._upper[local] = [kind, t, old + text]
        fs._deleted.discard(local)

    def touch(self, path: str, t: float = 0.0):
        e = self.stat(path)
        if e is None:
            self.write(path, "", t=t)
            return
        fs, local = self._writable(path)
        new = list(e)
        new[1] = t
        fs._upper[local] = new
        fs._deleted.discard(local)

    def mkdir(self, path: str, parents: bool = False, t: float = 0.0):
        e = self.stat(path)
        if e is not None:
            if parents and e[0] == "d":
                return
            raise FsError(EEXIST)
        parent = _parent(path)
        if parents and parent != path and not self.exists(parent):
            self.mkdir(parent, parents=True, t=t)
        self._check_parent_dirs(path)
        fs, local = self._writable(path)
        fs._upper[local] = ["d", t]
        fs._deleted.discard(local)

    def remove(self, path: str, recursive: bool = False, dir_ok: bool = False):
        """Remove a file; a directory only with `recursive` (any) or `dir_ok` (empty)."""
        e = self.stat(path)
        if e is None:
            self._check_parent_dirs(path)
            raise FsError(ENOENT)
        if path == "/" or path in self._mounts:
            raise FsError(EBUSY)
        m = self._mount_for(path)
        if m:
            if m[2]:
                raise FsError(EROFS)
            return m[0].remove(m[1], recursive, dir_ok)
        if e[0] == "d":
            if not recursive:
                if not dir_ok:
                    raise FsError(EISDIR)
                if self.listdir(path):
                    raise FsError(ENOTEMPTY)
            prefix = path.rstrip("/") + "/"
            if any(mp.startswith(prefix) for mp in self._mounts):
                raise FsError(EBUSY)
            for p in self._descendants(path):
                self._upper.pop(p, None)
                if p in self._lower:
                    self._deleted.add(p)
        self._upper.pop(path, None)
        if path in self._lower:
            self._deleted.add(path)
