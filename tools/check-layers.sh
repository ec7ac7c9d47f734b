#!/usr/bin/env bash
# Checks that hoist's layers stay apart (docs/architecture.md, "The layers"):
#
#   1. The C cores know nothing of Lua. A core is every .c and .h file under host/ except the
#      Lua side, host/lua/ (the bindings mod_*.c, binding.c/.h that they share, runtime.c/.h the
#      Lua state), and host/main.c (the command line). A core must not include lua.h, lauxlib.h,
#      lualib.h, luaconf.h, binding.h or runtime.h, nor call a Lua API function (lua_*, luaL_*), a
#      luaopen_* function, or a function a host/lua/ header declares. Comments do not count.
#   2. The hoist_core library (CMakeLists.txt), which unit tests and fuzzers link alone, holds
#      cores only.
#   3. Recipes (scripts/*.lua) reach C only through the Lua library or a documented native module:
#      every require() names a module of lua/hoist/, hoist.host, or a native module that the
#      runtime registers (its native_modules table) and docs/lua-api.md documents; package.loadlib
#      and package.cpath are not used. Every native module the runtime registers is documented.
#
# usage: tools/check-layers.sh [--no-self-check] [ROOT]
#   ROOT defaults to this checkout. Unless --no-self-check, the checks are first run on copies of
#   ROOT with one violation planted each, and must catch every one (a check that cannot fail
#   proves nothing). Exit 0 clean; 1 a violation (each printed as FILE:LINE: what); 2 usage.
set -u
self_check=1
root=
for a in "$@"; do
  case $a in
    --no-self-check) self_check=0 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "check-layers: unknown option '$a'" >&2; exit 2 ;;
    *) root=$a ;;
  esac
done
[ -n "$root" ] || root=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$root/host" ] || { echo "check-layers: '$root' has no host/ folder" >&2; exit 2; }

# C source without comments (block and line), string and character literals kept as they are.
strip_comments() {
  awk '
    !inblock && $0 !~ /[\/"'"'"']/ { print; next }
    { line = $0; out = ""; i = 1
      while (i <= length(line)) {
        c = substr(line, i, 1); d = substr(line, i, 2)
        if (inblock) { if (d == "*/") { inblock = 0; i += 2 } else i++; continue }
        if (instr) { out = out c; if (c == "\\") { out = out substr(line, i + 1, 1); i += 2; continue }
                     if (c == q) instr = 0; i++; continue }
        if (d == "/*") { inblock = 1; i += 2; continue }
        if (d == "//") break
        if (c == "\"" || c == "'"'"'") { instr = 1; q = c }
        out = out c; i++
      }
      print out }' "$1"
}

# check ROOT: prints every violation; returns 1 when there was one
check() {
  local r=$1 bad=0 f rel names callre src out

  # 1. the cores
  names=$(cat "$r"/host/lua/*.h 2>/dev/null |
          strip_comments /dev/stdin |
          sed -n 's/^[A-Za-z_][A-Za-z0-9_ *]*[ *]\([a-z_][a-z0-9_]*\)(.*/\1/p' | sort -u | paste -sd'|' -)
  callre='\b(lua_[a-z]+|luaL_[a-z]+|luaopen_[a-z0-9_]+'${names:+|$names}')[[:space:]]*\('
  while IFS= read -r f; do
    rel=${f#"$r"/}
    case $rel in
      host/lua/*|host/main.c) continue ;;
      host/core/*) ;;
      *) echo "$rel:1: a C file outside host/core/ and host/lua/   <- the tree shows the layers: cores in host/core/, bindings in host/lua/"; bad=1; continue ;;
    esac
    src=$(strip_comments "$f")
    if out=$(printf '%s\n' "$src" | grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]*/)?(lua|lauxlib|lualib|luaconf|binding|runtime)\.h[>"]'); then
      printf '%s\n' "$out" | sed "s|^|$rel:|; s|\$|   <- a C core includes a Lua header (cores know nothing of Lua)|"; bad=1
    fi
    if out=$(printf '%s\n' "$src" | grep -n -E "$callre"); then
      printf '%s\n' "$out" | sed "s|^|$rel:|; s|\$|   <- a C core calls Lua or a binding|"; bad=1
    fi
  done < <(find "$r/host" -type f \( -name '*.c' -o -name '*.h' \) | sort)

  # 2. the hoist_core library
  if [ -f "$r/CMakeLists.txt" ]; then
    if out=$(awk '/add_library\(hoist_core/ { on = 1 } on { print FNR": "$0 } on && /\)/ { on = 0 }' "$r/CMakeLists.txt" |
             grep -E 'host/lua/|(mod_[a-z_]*|binding|runtime|main)\.c'); then
      printf '%s\n' "$out" | sed 's|^|CMakeLists.txt:|; s|$|   <- hoist_core (linked alone by unit tests and fuzzers) holds a Lua file|'; bad=1
    fi
  fi

  # 3. the recipes
  local runtime natives lualib documented doc=$r/docs/lua-api.md m
  runtime=$r/host/lua/runtime.c
  natives=$(sed -n 's/^[[:space:]]*{"\(hoist\.[a-z0-9_.]*\)",[[:space:]]*luaopen_.*/\1/p' "$runtime" 2>/dev/null | sort -u)
  [ -n "$natives" ] || { echo "${runtime#"$r"/}: no native_modules table found (the check cannot tell C from Lua)"; bad=1; }
  lualib=$(cd "$r/lua" 2>/dev/null && find hoist -name '*.lua' | sed 's|/init\.lua$||; s|\.lua$||; s|/|.|g' | sort -u | tr '\n' ' ')
  natives=$(printf '%s\n' $natives | tr '\n' ' ')
  documented=
  for m in $natives; do
    if [ -f "$doc" ] && grep -q -F "\`$m\`" "$doc" || { [ -f "$doc" ] && grep -q -E "^#+ $m\$" "$doc"; }; then
      documented="$documented $m"
    else
      echo "${runtime#"$r"/}: native module $m is not documented in docs/lua-api.md"; bad=1
    fi
  done
  for f in "$r"/scripts/*.lua; do
    [ -f "$f" ] || continue
    rel=${f#"$r"/}
    while IFS=: read -r n m; do
      [ -n "$m" ] || continue
      case " hoist.host $documented $lualib " in *" $m "*) continue ;; esac
      if case " $natives " in *" $m "*) true ;; *) false ;; esac; then
        echo "$rel:$n: require(\"$m\")   <- a native module docs/lua-api.md does not document"
      else
        echo "$rel:$n: require(\"$m\")   <- not a module of lua/hoist/ nor a native one: recipes reach C only through hoist's modules"
      fi
      bad=1
    done < <(grep -n -o -E 'require[[:space:]]*\(?[[:space:]]*["'"'"'][^"'"'"']+["'"'"']' "$f" |
             sed -E 's/^([0-9]+):.*["'"'"']([^"'"'"']+)["'"'"']$/\1:\2/')
    if out=$(grep -n -E 'package\.(loadlib|cpath)' "$f"); then
      printf '%s\n' "$out" | sed "s|^|$rel:|; s|\$|   <- a recipe loads C itself|"; bad=1
    fi
  done
  return $bad
}

# --- the self-check: each planted violation must be caught, on a copy of ROOT

# make_copy: a temporary copy of what the checks read; prints its path
make_copy() {
  local copy
  copy=$(mktemp -d "${TMPDIR:-/tmp}/check-layers.XXXXXX") || return 1
  (cd "$root" && tar -cf - host lua scripts CMakeLists.txt docs/lua-api.md 2>/dev/null) | tar -C "$copy" -xf - ||
    { rm -rf "$copy"; return 1; }
  echo "$copy"
}

plant_and_check() {  # NAME EDIT-COMMAND...
  local name=$1 copy out
  shift
  copy=$(make_copy) || { echo "self-check: cannot copy $root"; return 1; }
  (cd "$copy" && eval "$@") || { echo "self-check: cannot plant '$name'"; rm -rf "$copy"; return 1; }
  if out=$(check "$copy"); then
    echo "self-check FAILED: a planted violation was not caught: $name"; rm -rf "$copy"; return 1
  fi
  echo "self-check: caught $name: $(printf '%s\n' "$out" | head -n 1 | sed "s|$copy/||")"
  rm -rf "$copy"
}

if [ $self_check = 1 ]; then
  core=$(cd "$root" && find host/core -name '*.c' | sort | head -n 1)
  recipe=$(cd "$root" && ls scripts/*.lua | head -n 1)
  [ -n "$core" ] && [ -n "$recipe" ] || { echo "self-check: no core or recipe to plant in"; exit 1; }
  sc=0
  plant_and_check "a core including lua.h ($core)" "printf '#include <lua.h>\n' >> $core" || sc=1
  plant_and_check "a core including binding.h ($core)" "printf '#include \"binding.h\"\n' >> $core" || sc=1
  plant_and_check "a core calling luaopen_hoist_fs ($core)" \
    "printf 'static int planted(void *L) { return luaopen_hoist_fs(L); }\n' >> $core" || sc=1
  plant_and_check "a core calling a binding helper ($core)" \
    "printf 'static int planted(void *L) { return hoist_lua_push_err(L, 0); }\n' >> $core" || sc=1
  plant_and_check "a core calling the Lua API ($core)" \
    "printf 'static void planted(void *L) { lua_settop(L, 0); }\n' >> $core" || sc=1
  plant_and_check "a core in a subfolder including lauxlib.h (host/core/planted.c)" \
    "mkdir -p host/core && printf '#include <lauxlib.h>\n' > host/core/planted.c" || sc=1
  plant_and_check "a C file beside the layers (host/planted.c)" \
    "printf 'int planted;\n' > host/planted.c" || sc=1
  plant_and_check "a binding in the hoist_core library" \
    "sed -i 's|^  host/core/common/err.c\$|  host/core/common/err.c\n  host/lua/mod_fs.c|' CMakeLists.txt" || sc=1
  plant_and_check "a recipe requiring a C module from the system ($recipe)" \
    "printf 'local planted = require(\"lfs\")\n' >> $recipe" || sc=1
  plant_and_check "a recipe requiring an undocumented native module ($recipe)" \
    "sed -i 's|^  {NULL, NULL}|  {\"hoist.planted.core\", luaopen_hoist_fs},\n  {NULL, NULL}|' host/lua/runtime.c && printf 'local planted = require(\"hoist.planted.core\")\n' >> $recipe" || sc=1
  plant_and_check "a recipe calling package.loadlib ($recipe)" \
    "printf 'local planted = package.loadlib(\"x.so\", \"luaopen_x\")\n' >> $recipe" || sc=1
  # a comment naming Lua is not a violation: the real check below must still pass with one
  copy=$(make_copy) || { echo "self-check: cannot copy $root"; exit 1; }
  printf '/* lua_pcall( and #include <lua.h> in a comment */\n// luaL_error(\n' >> "$copy/$core"
  if ! out=$(check "$copy"); then
    echo "self-check FAILED: a comment was taken for a violation:"; printf '%s\n' "$out"; sc=1
  else
    echo "self-check: comments naming Lua calls pass"
  fi
  rm -rf "$copy"
  [ $sc = 0 ] || exit 1
fi

if check "$root"; then
  echo "check-layers: clean (C cores without Lua, hoist_core without bindings, recipes through hoist's modules)"
  exit 0
fi
echo "check-layers: the layers are mixed (see docs/architecture.md, \"The layers\")"
exit 1
