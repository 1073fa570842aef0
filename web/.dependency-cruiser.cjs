// The web UI's import boundaries (`npm run lint:imports`, run by `make test`). The layout follows
// bulletproof-react: imports flow one way, from shared code (components/, hooks/, lib/, utils/)
// to features/<name>/ to app/ and main.tsx. docs/architecture.md, "The web UI", describes the
// folders. Paths are relative to web/.
const TEST = '\\.test\\.tsx?$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module cycle: none of its modules can be read, tested or moved without the others.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-testing',
      severity: 'error',
      comment: 'src/testing/ is test support: an app module importing it would ship the fakes in the bundle.',
      from: { path: '^src/', pathNot: [TEST, '^src/testing/'] },
      to: { path: '^src/testing/' },
    },
    {
      name: 'not-to-test',
      severity: 'error',
      comment: 'Nothing imports a test file; what tests share belongs in src/testing/.',
      from: {},
      to: { path: TEST },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment: 'App code imports only "dependencies": a devDependency is not installed for the build.',
      from: { path: '^src/', pathNot: [TEST, '^src/testing/'] },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'shared-not-to-features',
      severity: 'error',
      comment: 'Shared code (components/, hooks/, lib/, utils/) serves every feature and knows none of them, nor the app.',
      from: { path: '^src/(components|hooks|lib|utils)/' },
      to: { path: ['^src/features/', '^src/app/', '^src/main\\.tsx$'] },
    },
    {
      name: 'features-not-to-app',
      severity: 'error',
      comment: 'A feature is used by the app (app/, main.tsx), never the other way round.',
      from: { path: '^src/features/' },
      to: { path: ['^src/app/', '^src/main\\.tsx$'] },
    },
    {
      name: 'no-cross-feature',
      severity: 'error',
      comment: 'Features do not import each other: what two of them need moves to shared code, and the app composes them.',
      from: { path: '^src/features/([^/]+)/' },
      to: { path: '^src/features/', pathNot: '^src/features/$1/' },
    },
    {
      name: 'feature-public-surface',
      severity: 'error',
      comment: "Outside a feature, only the files at its root (its page) are imported; its components/, hooks/, stores/ and utils/ are its own.",
      from: { pathNot: '^src/features/' },
      to: { path: '^src/features/[^/]+/[^/]+/' },
    },
    {
      name: 'live-stands-alone',
      severity: 'error',
      comment: 'The live transport (lib/live/) is handed every browser API and knows no page, hook, view model or session; of the app it uses only the API types and Retry-After (tests also use src/testing/).',
      from: { path: '^src/lib/live/' },
      to: { path: '^src/', pathNot: ['^src/lib/live/', '^src/lib/api/(types|retryAfter)\\.ts$', '^src/testing/'] },
    },
    {
      name: 'live-framework-free',
      severity: 'error',
      comment: 'The live transport imports no package (no React, no react-query, no router), so it runs and is tested without them.',
      from: { path: '^src/lib/live/', pathNot: TEST },
      to: { pathNot: '^src/' },
    },
    {
      name: 'api-at-the-bottom',
      severity: 'error',
      comment: 'lib/api/ (HTTP client, wire types, query keys) is the layer everything stands on: it imports nothing else of the app.',
      from: { path: '^src/lib/api/' },
      to: { path: '^src/', pathNot: ['^src/lib/api/', '^src/testing/'] },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports and that imports nothing: dead, or left behind by a move.',
      from: { orphan: true, pathNot: [TEST, '\\.d\\.ts$'] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: the loop between the transport and the view model was one.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
