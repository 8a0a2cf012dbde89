#!/usr/bin/env bash
# Regenerates the real-producer PDF fixtures of the local runner's PDF text reader, and next to
# each its poppler reference text (`pdftotext -layout`), from the sources in
# test/cli/local/adapters/fixtures/pdf/src. One contract (two pages, a heading, a table, words
# that real fonts set with fi/ffi/fl ligatures) printed by producers we did not write.
#
# Needs (Debian): chromium poppler-utils ghostscript groff (not only groff-base: -ms, gropdf) enscript; libreoffice-writer-nogui is
# optional (its fixture is kept as committed when soffice is missing).
#
#   bash projenrc/pdf-fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/../test/cli/local/adapters/fixtures/pdf"
# Fixed dates in the PDFs' metadata where the producer honours it (ghostscript, groff).
export SOURCE_DATE_EPOCH=1735689600
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Chromium (Skia): TrueType subsets, Identity-H, ToUnicode, HarfBuzz ligatures (DejaVu Serif).
chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
  --user-data-dir="$work/chromium" --print-to-pdf="$work/chromium.pdf" "file://$PWD/src/contract.html" 2>/dev/null
mv "$work/chromium.pdf" chromium.pdf

# groff -ms with tbl, then ghostscript: Type 1C fonts without ToUnicode, ligature glyphs by name.
groff -t -ms -Tps src/contract.ms > "$work/groff.ps"
ps2pdf -dPDFSETTINGS=/prepress "$work/groff.ps" groff-ghostscript.pdf

# groff's own PDF writer (gropdf): Type 1 fonts embedded whole, no ToUnicode.
groff -t -ms -Tpdf src/contract.ms > groff-gropdf.pdf

# enscript (Courier, a form feed between the pages), then ghostscript.
enscript --quiet --no-header --font=Courier10 --output="$work/enscript.ps" src/contract.txt
ps2pdf "$work/enscript.ps" enscript-ghostscript.pdf
# The same, encrypted with an owner password only: it opens without a password, yet it is encrypted.
ps2pdf -sOwnerPassword=owner -sUserPassword= -dEncryptionR=3 -dKeyLength=128 "$work/enscript.ps" encrypted-owner-password.pdf

# LibreOffice Writer (optional): the HTML through Writer's PDF export.
if command -v soffice >/dev/null 2>&1; then
  soffice -env:UserInstallation="file://$work/lo" --headless --convert-to pdf:writer_pdf_Export \
    --outdir "$work" src/contract.html >/dev/null 2>&1
  mv "$work/contract.pdf" libreoffice.pdf
else
  echo "soffice not found: libreoffice.pdf kept as committed" >&2
fi

# The reference text: poppler's reading, with the page breaks (form feeds) it writes. The producers
# are those of PDF_PRODUCERS in test/cli/local/adapters/pdf-recall.ts.
for producer in chromium libreoffice groff-ghostscript groff-gropdf enscript-ghostscript; do
  pdftotext -layout "$producer.pdf" "$producer.txt"
done
ls -l ./*.pdf ./*.txt
