#!/bin/sh
# Fails when a string that airlock's sources mark for translation (POTFILES)
# has no translation in LANG.po, or a fuzzy one: "a complete translation",
# checked rather than promised.
#   po/check-complete.sh SOURCE_DIR LANG
set -eu
source_dir=$1
lang=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
xgettext --package-name=airlock --from-code=UTF-8 --keyword=_ --keyword=n_:1,2 --keyword=N_ \
  -D "$source_dir" -f "$source_dir/po/POTFILES" -o "$scratch/airlock.pot"
msgmerge --quiet --no-fuzzy-matching -o "$scratch/merged.po" "$source_dir/po/$lang.po" "$scratch/airlock.pot"
missing=$(msgattrib --untranslated --no-obsolete "$scratch/merged.po" | grep -c '^msgid ' || true)
fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$scratch/merged.po" | grep -c '^msgid ' || true)
# The header is an "untranslated" entry of its own when anything is missing.
if [ "$missing" -gt 0 ] || [ "$fuzzy" -gt 0 ]; then
  echo "po/$lang.po lacks translations (or has fuzzy ones) for:" >&2
  msgattrib --untranslated --no-obsolete "$scratch/merged.po" | grep -A1 '^msgid ' | grep -v '^msgid ""$' >&2 || true
  msgattrib --only-fuzzy --no-obsolete "$scratch/merged.po" | grep -A1 '^msgid ' >&2 || true
  exit 1
fi
# Each translation keeps its original's printf conversions: a %s where the
# program passes a number would crash it.
msgfmt --check --output-file=/dev/null "$source_dir/po/$lang.po"
echo "po/$lang.po translates every string"
