#!/bin/sh
# Merges a file of new translations (a PO file, header optional) into
# po/LANG.po, then refreshes it against the sources:
#   po/merge-translations.sh BUILD_DIR LANG NEW.po
set -eu
build_dir=$1
lang=$2
new=$3
po=$(dirname "$0")/$lang.po
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
msgattrib --translated --no-obsolete "$po" -o "$scratch/old.po"
msgcat --use-first "$scratch/old.po" "$new" -o "$scratch/merged.po"
cp "$scratch/merged.po" "$po"
ninja -C "$build_dir" airlock-pot airlock-update-po >/dev/null
