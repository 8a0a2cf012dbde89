#!/usr/bin/env bash
# Type-checks the construct code against the oldest aws-cdk-lib the package accepts (its peer
# minimum), so no API newer than that slips in. Tests run against the newest release.
set -euo pipefail
cd "$(dirname "$0")/.."
min=$(node -p "require('./package.json').peerDependencies['aws-cdk-lib'].replace(/^[^0-9]*/, '')")
dir=.tmp/cdk-min
rm -rf "$dir" && mkdir -p "$dir"
echo '{ "name": "cdk-min-check", "version": "0.0.0", "private": true }' > "$dir/package.json"
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error "aws-cdk-lib@$min" "constructs@^10.5.1" "ajv@^8.17.1" "@types/node@^20" "typescript@$(node -p "require('typescript/package.json').version")" > /dev/null)
cp -r src "$dir/src"
# Lambda runtime code and the local runner do not use aws-cdk-lib.
rm -rf "$dir/src/cli" "$dir/src/runtime"
find "$dir/src" -type d -name handler -prune -exec rm -rf {} +
cat > "$dir/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "node16", "lib": ["es2022"], "strict": true, "esModuleInterop": true,
    "skipLibCheck": true, "noEmit": true, "types": ["node"], "rootDir": "src"
  },
  "include": ["src/**/*.ts"]
}
JSON
(cd "$dir" && npx tsc -p tsconfig.json)
echo "construct code type-checks against aws-cdk-lib $min"
