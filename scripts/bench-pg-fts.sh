#!/usr/bin/env bash
# Baseline for docs/performance.md: Postgres full-text search (spanish + unaccent) over the
# same fichas, the same questions (any word may match, as in the index), top 5. Needs a Postgres at PGURL (default the local one).
set -euo pipefail
cd "$(dirname "$0")/.."
PGURL=${PGURL:-postgresql://postgres@127.0.0.1:5432/postgres}
DB=atiende_fts_bench
psql "$PGURL" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
URL=${PGURL%/*}/$DB
python3 - "$@" > /tmp/atiende-fts.sql <<'PY'
import glob, json
rows = []
for f in sorted(glob.glob("catalogue/fichas/*.json")):
    for fi in json.load(open(f)):
        secs = []
        for k, v in fi["sections"].items():
            items = [x for ch in v.values() for x in ch] if k == "como" else v
            secs += [x if isinstance(x, str) else x["text"] for x in items]
        rows.append((fi["slug"], fi["title"], " ".join(fi.get("keywords", [])), fi["summary"], " ".join(secs)))
q = lambda s: "'" + s.replace("'", "''") + "'"
print("CREATE EXTENSION IF NOT EXISTS unaccent;")
print("CREATE TEXT SEARCH CONFIGURATION es_unaccent (COPY = spanish);")
print("ALTER TEXT SEARCH CONFIGURATION es_unaccent ALTER MAPPING FOR hword, hword_part, word WITH unaccent, spanish_stem;")
print("CREATE TABLE fichas (slug text primary key, title text, keywords text, summary text, body text, doc tsvector);")
for r in rows:
    print("INSERT INTO fichas VALUES (%s, NULL);" % ", ".join(q(x) for x in r))
print("""UPDATE fichas SET doc = setweight(to_tsvector('es_unaccent', title), 'A') || setweight(to_tsvector('es_unaccent', keywords), 'A')
  || setweight(to_tsvector('es_unaccent', summary), 'B') || setweight(to_tsvector('es_unaccent', body), 'D');""")
print("CREATE INDEX fichas_doc ON fichas USING gin (doc);")
print("ANALYZE fichas;")
PY
psql "$URL" -q -f /tmp/atiende-fts.sql
for question in "cuanto es la pgu" "kiero saber dl bono invierno xfa" "sertificado de nasimiento" "como saco la clave unica" "receta de empanadas"; do
  echo "== $question"
  psql "$URL" -qAt -c "\\timing on" -c "SELECT slug, round(ts_rank_cd(doc, q)::numeric, 3) FROM fichas, CAST(replace(plainto_tsquery('es_unaccent', '$question')::text, '&', '|') AS tsquery) q WHERE doc @@ q ORDER BY ts_rank_cd(doc, q) DESC LIMIT 5" | tr '\n' ' '
  echo
done
psql "$PGURL" -qc "DROP DATABASE $DB"
