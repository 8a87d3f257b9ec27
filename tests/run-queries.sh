#!/usr/bin/env bash
# Golden SQL test runner: sends each statement of tests/queries/NNNNN_name.sql
# to a ClickHouse-compatible HTTP endpoint and compares the concatenated
# response bodies with NNNNN_name.reference byte for byte. The same files run
# against spanhouse and against a real ClickHouse. Needs only bash, curl, diff.
#
# Usage: tests/run-queries.sh [--url URL] [--record] [--filter SUBSTR]
#                             [--drop-setting NAME]... [file.sql...]
#
# File syntax (see tests/queries/README.md):
#   - optional first line `-- settings: k=v&k2=v2`, appended to the URL of
#     every statement of the file;
#   - other lines starting with `--` are comments and are skipped;
#   - a statement ends on a line whose last non-comment character is `;`;
#   - `; -- { serverError N }` after a statement means it must fail with
#     exception code N; its output is not recorded;
#   - a `-- hand-written: why` line marks a reference written by hand from the
#     ClickHouse docs: --record compares it instead of overwriting it.

set -u

url="${SPANHOUSE_URL:-http://127.0.0.1:8123}"
record=0
filter=""
drop_settings=()
files=()

usage() {
	echo "usage: $0 [--url URL] [--record] [--filter SUBSTR] [--drop-setting NAME]... [file.sql...]" >&2
	exit 2
}

while [[ $# -gt 0 ]]; do
	case "$1" in
	--url) [[ $# -ge 2 ]] || usage; url="$2"; shift 2 ;;
	--url=*) url="${1#--url=}"; shift ;;
	--record) record=1; shift ;;
	--filter) [[ $# -ge 2 ]] || usage; filter="$2"; shift 2 ;;
	--filter=*) filter="${1#--filter=}"; shift ;;
	--drop-setting) [[ $# -ge 2 ]] || usage; drop_settings+=("$2"); shift 2 ;;
	-h|--help) usage ;;
	--*) echo "unknown option: $1" >&2; usage ;;
	*) files+=("$1"); shift ;;
	esac
done

url="${url%/}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ ${#files[@]} -eq 0 ]]; then
	shopt -s nullglob
	files=("$here"/queries/[0-9]*.sql)
	shopt -u nullglob
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/run-queries.XXXXXX")" || exit 2
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
errors=""	# failure details of the current test, one line each

note() { errors+="    $1"$'\n'; }

# Drop the settings named by --drop-setting from a k=v&k=v string.
filter_settings() {
	local in="$1" out="" kv name d keep
	local IFS='&'
	for kv in $in; do
		[[ -z "$kv" ]] && continue
		name="${kv%%=*}"
		keep=1
		for d in "${drop_settings[@]+"${drop_settings[@]}"}"; do
			[[ "$name" == "$d" ]] && keep=0
		done
		[[ $keep -eq 1 ]] && out+="${out:+&}$kv"
	done
	printf '%s' "$out"
}

# Run one statement; append its body to $work/out unless an error is expected.
# $1 statement text, $2 expected error code or empty, $3 settings string.
run_statement() {
	local stmt="$1" want="$2" settings="$3" status code body_start
	local q="$url/?database=default${settings:+&$settings}"
	: >"$work/hdr"
	: >"$work/body"
	if ! status=$(printf '%s' "$stmt" | curl -sS --max-time 60 --max-filesize 67108864 -o "$work/body" \
		-D "$work/hdr" -w '%{http_code}' --data-binary @- "$q" 2>"$work/curlerr"); then
		note "curl failed: $(head -c 200 "$work/curlerr")"
		note "  in: ${stmt:0:120}"
		return 1
	fi
	code=$(tr -d '\r' <"$work/hdr" | sed -n 's/^[Xx]-[Cc]lick[Hh]ouse-[Ee]xception-[Cc]ode: *\([0-9][0-9]*\).*/\1/p' | head -n 1)
	if [[ -z "$code" ]]; then
		# ClickHouse 18.16 sends no exception header: "Code: 46, e.displayText() ..."
		body_start=$(head -c 40 "$work/body")
		if [[ "$status" != "200" && "$body_start" =~ ^Code:\ ([0-9]+)[.,] ]]; then
			code="${BASH_REMATCH[1]}"
		fi
	fi
	if [[ -n "$want" ]]; then
		# An error raised after the headers went out is only in the body.
		if [[ -z "$code" && "$status" == "200" ]] &&
			grep -aq "Code: ${want}[.,]" "$work/body"; then
			code="$want"
		fi
		if [[ -z "$code" && "$status" == "200" ]]; then
			note "expected serverError $want, but the statement succeeded: ${stmt:0:120}"
			return 1
		elif [[ "$code" != "$want" ]]; then
			note "expected serverError $want, got ${code:-HTTP $status}: ${stmt:0:120}"
			note "  $(head -c 300 "$work/body" | tr '\n' ' ')"
			return 1
		fi
		return 0
	fi
	if [[ -n "$code" || "$status" != "200" ]]; then
		note "unexpected error (HTTP $status${code:+, code $code}): ${stmt:0:120}"
		note "  $(head -c 300 "$work/body" | tr '\n' ' ')"
		return 1
	fi
	cat "$work/body" >>"$work/out"
	return 0
}

# Run every statement of one file; returns 0 if all statements behaved.
run_file() {
	local file="$1" settings="" line stmt="" first=1 ok=0 want
	local end_re='^(.*);[[:space:]]*(--.*)?$'
	local err_re='^--[[:space:]]*\{[[:space:]]*serverError[[:space:]]+([0-9]+)[[:space:]]*\}'
	: >"$work/out"
	while IFS= read -r line || [[ -n "$line" ]]; do
		line="${line%$'\r'}"
		if [[ $first -eq 1 ]]; then
			first=0
			if [[ "$line" =~ ^--[[:space:]]*settings:[[:space:]]*(.*)$ ]]; then
				settings="${BASH_REMATCH[1]}"
				settings="${settings%"${settings##*[![:space:]]}"}"
				settings="$(filter_settings "$settings")"
				continue
			fi
		fi
		[[ "$line" =~ ^[[:space:]]*-- ]] && continue
		if [[ -z "$stmt" && "$line" =~ ^[[:space:]]*$ ]]; then
			continue
		fi
		if [[ "$line" =~ $end_re ]]; then
			stmt+="${BASH_REMATCH[1]}"
			want=""
			if [[ "${BASH_REMATCH[2]}" =~ $err_re ]]; then
				want="${BASH_REMATCH[1]}"
			fi
			run_statement "$stmt" "$want" "$settings" || ok=1
			stmt=""
		else
			stmt+="$line"$'\n'
		fi
	done <"$file"
	if [[ -n "${stmt//[[:space:]]/}" ]]; then
		run_statement "$stmt" "" "$settings" || ok=1
	fi
	return $ok
}

for file in "${files[@]}"; do
	name="$(basename "$file" .sql)"
	[[ -n "$filter" && "$name" != *"$filter"* ]] && continue
	if [[ ! -f "$file" ]]; then
		echo "FAIL $name"
		echo "    no such file: $file"
		failed=$((failed + 1))
		continue
	fi
	ref="${file%.sql}.reference"
	errors=""
	if ! run_file "$file"; then
		echo "FAIL $name"
		printf '%s' "$errors"
		failed=$((failed + 1))
		continue
	fi
	if [[ $record -eq 1 ]] && ! grep -q '^-- hand-written' "$file"; then
		cp "$work/out" "$ref"
		echo "ok $name (recorded)"
		passed=$((passed + 1))
	elif [[ ! -f "$ref" ]]; then
		echo "FAIL $name"
		echo "    missing reference: $ref"
		failed=$((failed + 1))
	elif cmp -s "$ref" "$work/out"; then
		echo "ok $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		diff -u --label "$name.reference" --label "$name.output" "$ref" "$work/out" | head -n 40 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
