#!/usr/bin/env bash
# Fetches the corpus the default model is trained on: the King James Version of the
# Bible (1611; public domain — see Debian's /usr/share/doc/bible-kjv-text/copyright),
# from Debian's bible-kjv-text and bible-kjv packages (version 4.38, Debian 12).
# The text is printed with the package's own `bible` program, then normalised to one
# verse per line, with a "Book chapter" heading line before each chapter.
#
# Usage: scripts/fetch-corpus.sh [out-file]   (default: corpus/kjv.txt)
# Needs: apt-get (downloads only, installs nothing), dpkg-deb, node.
set -euo pipefail

out="${1:-corpus/kjv.txt}"
version="4.38"
expected_sha256="$(cat "$(dirname "$0")/../corpus/kjv.sha256" | cut -d' ' -f1)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  if ! apt-get download "bible-kjv-text=$version" "bible-kjv=$version" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get download "bible-kjv-text=$version" "bible-kjv=$version" >/dev/null
  fi
  for deb in *.deb; do dpkg-deb -x "$deb" root; done
  # -l10000: a line width no verse reaches, so no verse is wrapped.
  root/usr/bin/bible -p root/usr/lib -l10000 "Gen1:1-Rev22:21" > raw.txt
)

mkdir -p "$(dirname "$out")"
node -e '
  const fs = require("node:fs");
  const lines = fs.readFileSync(process.argv[1], "utf8").split("\n");
  const kept = [];
  for (const line of lines) {
    if (line.trim() === "") continue;
    const verse = /^\s+\d+ (.*)$/.exec(line);
    kept.push(verse ? verse[1].trimEnd() : line.trim());
  }
  fs.writeFileSync(process.argv[2], kept.join("\n") + "\n");
' "$work/raw.txt" "$out"

actual_sha256="$(sha256sum "$out" | cut -d' ' -f1)"
if [ "$actual_sha256" != "$expected_sha256" ]; then
  echo "fetch-corpus: $out has sha256 $actual_sha256, expected $expected_sha256 (corpus/kjv.sha256)." >&2
  echo "The Debian package changed; check the text and update corpus/kjv.sha256 if it is right." >&2
  exit 1
fi
echo "fetch-corpus: wrote $out ($(wc -c < "$out") bytes, sha256 $actual_sha256)"
