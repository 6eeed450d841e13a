#!/bin/sh
# Builds the web page from web/src into web/dist (or into the folder given as $1):
# index.html as is, app.js bundled by esbuild (Preact + htm, ES2020), app.css bundled.
# web/dist is committed and embedded in the scheduler binary (scheduler/src/web.rs);
# `cargo test -p cratedigger web` checks that it matches a fresh build.
# Needs node and `npm ci` in web/ first.
set -eu
cd "$(dirname "$0")"
out="${1:-dist}"
mkdir -p "$out"
esbuild=./node_modules/.bin/esbuild
if [ ! -x "$esbuild" ]; then
    echo "esbuild is missing: run 'npm ci' in web/ first" >&2
    exit 1
fi
"$esbuild" src/main.js --bundle --format=esm --target=es2020 --minify \
    --legal-comments=none --charset=utf8 --log-level=warning --outfile="$out/app.js"
"$esbuild" src/app.css --bundle --minify --log-level=warning --outfile="$out/app.css"
cp src/index.html "$out/index.html"
