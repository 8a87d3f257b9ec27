#!/usr/bin/env bash
# Enforces DESIGN.md's dependency direction: a module may include headers
# only from the modules below it. tools/ may include anything.
set -u
cd "$(dirname "$0")/.."
declare -A allowed=(
  [base]="base"
  [storage]="base storage"
  [catalog]="base catalog"
  [engine]="base storage catalog engine"
  [query]="base storage catalog engine query"
  [ingest]="base storage catalog engine ingest"
)
bad=0
for mod in "${!allowed[@]}"; do
  [ -d "$mod" ] || continue
  while IFS=: read -r file line inc; do
    target=${inc#*\"}
    target=${target%%/*}
    case " ${allowed[$mod]} " in
      *" $target "*) ;;
      *) echo "$file:$line: $mod/ must not include $target/ ($inc)"; bad=1 ;;
    esac
  done < <(grep -n -E '^#include "[a-z]+/' "$mod"/*.[ch] 2>/dev/null)
done
[ $bad -eq 0 ] && echo "dependency direction ok"
exit $bad
