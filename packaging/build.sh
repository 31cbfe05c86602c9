#!/usr/bin/env bash
# Build the wheel (dist/*.whl) and, with --pyinstaller, a one-folder app (dist/t2ipal-tagger/).
# Install the desktop entry for the current user with --install-desktop.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m pip wheel --no-deps --no-build-isolation -w dist .
for arg in "$@"; do
  case "$arg" in
    --pyinstaller) "$PY" -m PyInstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/t2ipal-tagger.spec ;;
    --install-desktop)
      install -Dm644 packaging/t2ipal-tagger.desktop "$HOME/.local/share/applications/t2ipal-tagger.desktop"
      install -Dm644 packaging/t2ipal-tagger.svg "$HOME/.local/share/icons/hicolor/scalable/apps/t2ipal-tagger.svg" ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done
ls -1 dist
