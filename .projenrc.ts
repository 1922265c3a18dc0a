import { javascript } from 'projen';
import { CdktfConstructLibrary } from './projenrc/cdktf-construct-library';
import { CDKTN } from './projenrc/cdktn';

/**
 * cdktf-iptables: typed firewall constructs for CDK for Terraform, and the same
 * library for CDK Terrain (cdktn-iptables, built from the same lib/ by
 * `npx projen pack:cdktn`, see projenrc/cdktn.ts).
 *
 * Sources live in lib/ and are compiled in place (srcdir = libdir = 'lib'),
 * as aws-cdk does; see ../shared/DESIGN.md.
 */
const project = new CdktfConstructLibrary({
  name: 'cdktf-iptables',
  description: 'Typed cdktf constructs that render, install and persist stateful iptables/ip6tables firewalls',
  author: 'cdktf-iptables maintainers',
  authorAddress: 'maintainers@cdktf-iptables.invalid',
  repositoryUrl: 'https://example.invalid/cdktf-iptables.git',
  license: 'Apache-2.0',
  keywords: ['cdktf', 'iptables', 'ip6tables', 'firewall', 'netfilter', 'terraform'],
  defaultReleaseBranch: 'main',
  projenrcTs: true,
  packageManager: javascript.NodePackageManager.NPM,
  minNodeVersion: '20.0.0',
  jsiiVersion: '~5.9.0',
  typescriptVersion: '~5.9.0',

  cdktfVersion: '^0.21.0',
  constructsVersion: '^10.4.2',
  peerDeps: ['@cdktf/provider-null@^11.0.1'],
  devDeps: ['cdktf@0.21.0', 'cdktf-cli@0.21.0', 'constructs@10.4.2', '@cdktf/provider-null@11.0.1', 'ts-node'],
  deps: ['ipaddr.js@^2.2.0'],
  bundledDeps: ['ipaddr.js'],
  // `npx cdktf-iptables diff <iptables-save file> <host folder>`: what a migration changes
  bin: { 'cdktf-iptables': 'lib/cli/main.js' },

  // other-language packages (jsii): their code is generated in CI (`npx projen pacmak:code`);
  // PyPI, Maven Central, NuGet and the Go proxy are not reachable here, so nothing is published
  publishToPypi: { distName: 'cdktf-iptables', module: 'cdktf_iptables' },
  publishToMaven: { javaPackage: 'io.github.cdktfiptables', mavenGroupId: 'io.github.cdktfiptables', mavenArtifactId: 'cdktf-iptables' },
  publishToNuget: { dotNetNamespace: 'CdktfIptables', packageId: 'CdktfIptables' },
  publishToGo: { moduleName: 'github.com/cdktf-iptables/cdktf-iptables-go' },

  srcdir: 'lib',
  libdir: 'lib',
  testdir: 'test',
  sampleCode: false,
  docgen: true,

  github: false,
  buildWorkflow: false,
  release: false,
  depsUpgrade: false,
  pullRequestTemplate: false,

  jestOptions: {
    passWithNoTests: false,
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      collectCoverage: false,
      // in-place compilation leaves lib/*.js beside lib/*.ts: ts must win.
      moduleFileExtensions: ['ts', 'js', 'json', 'node'],
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/'],
      // the cdktn build's staging folder holds a second copy of lib/ and a package.json
      modulePathIgnorePatterns: ['<rootDir>/build/'],
      coveragePathIgnorePatterns: ['/node_modules/', '/test/'],
      testTimeout: 120_000,
      maxWorkers: 1,
      // every temp folder of a run lives under one folder, removed at the end
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  },
  tsconfigDevFile: 'tsconfig.dev.json',
  tsconfigDev: {
    include: ['lib/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts', 'projenrc/**/*.ts', '.projenrc.ts'],
    // a package of its own (imports 'cdktf-iptables'), type-checked by test/package.test.ts against the tarball;
    // build/: the cdktn build's staging folder (a copy of lib/ compiled against cdktn)
    exclude: ['examples/third-party-part/**', 'build/**'],
    compilerOptions: {},
  },
  eslintOptions: {
    tsconfigPath: './tsconfig.dev.json',
    projectService: false,
    dirs: ['lib'],
    devdirs: ['test', 'examples', 'bench', '.projenrc.ts', 'projenrc'],
    ignorePatterns: ['*.js', '*.d.ts', 'node_modules/', 'cdktf.out/', '*.generated.ts', 'coverage', 'examples/third-party-part/', 'build/'],
  },
  gitignore: ['cdktf.out/', '.gen/', '.terraform/', '*.tfstate*', '/.bench/', '/.cache/', '/build/'],
});

// layers point one way (values <- rules <- firewall <- parts/constructs; analysis beside): no import cycles
project.eslint?.addRules({ 'import/no-cycle': ['error', { ignoreExternal: true }] });

// @cdktf/provider-null is needed only by hosts that deploy with Installer.NULL_RESOURCE: an
// optional peer, so npm does not install it into apps that use terraform_data or files only.
project.package.addField('peerDependenciesMeta', { '@cdktf/provider-null': { optional: true } });

// lib/ holds sources: keep them in git, ignore only the compiler's output there.
project.gitignore.removePatterns('/lib');
project.gitignore.exclude('/lib/**/*.js', '/lib/**/*.d.ts', '/lib/**/*.js.map', '/lib/**/*.d.ts.map', '/lib/**/*.tsbuildinfo');
project.gitignore.include('/lib/provision/scripts/*.sh', '/lib/provision/scripts/*.js');
// npm package: compiled js + d.ts, no ts sources, no examples/tests/bench.
project.npmignore?.exclude('*.ts', 'examples/', 'bench/', 'test/', '.ci/', 'cdktf.out/', '*.tsbuildinfo', '/build/');
project.npmignore?.include('*.d.ts', 'lib/**/*.js', 'lib/**/*.d.ts', 'lib/provision/scripts/*.sh', 'lib/provision/scripts/*.js');

// ts-jest transpile-only: the type check of tests/examples/bench is a separate step.
project.addTask('typecheck', {
  description: 'Type-check tests, examples and benchmarks (ts-jest only transpiles)',
  exec: 'tsc --noEmit -p tsconfig.dev.json',
});

project.addTask('system-deps', {
  description: 'Install the Debian packages the kernel tests need (iptables, iproute2, nmap, hping3, ...)',
  exec: 'bash test/kernel/system-deps.sh',
});

project.addTask('synth:example', {
  description: 'Synthesize examples/single-host and print the rendered rule files',
  exec: 'bash examples/synth-and-show.sh single-host',
});

project.addTask('bench', {
  description: 'Run the synth benchmark (prints seconds per N and the ratio to a bare cdktf stack)',
  exec: 'ts-node --transpile-only --prefer-ts-exts --project tsconfig.dev.json bench/synth.ts',
});

project.addTask('pacmak:code', {
  description: 'Generate the Python, Java, C# and Go bindings (code only: their registries and toolchains are not needed)',
  exec: 'jsii-pacmak --code-only --targets python java dotnet go --outdir dist/code',
});

// The CDK Terrain package: the same lib/, compiled by jsii against cdktn (its own assembly and
// language targets), packed into dist/cdktn/. `npm pack` keeps packing the cdktf package.
const cdktnScript = 'ts-node --project projenrc/tsconfig.json projenrc/cdktn.ts';
const packCdktn = project.addTask('pack:cdktn', {
  description: `Build the CDK Terrain package (${CDKTN.packageName}) from the same lib/ and write its tarball into ${CDKTN.distDir}/`,
  env: { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', CHECKPOINT_DISABLE: '1' },
  exec: `${cdktnScript} pack`,
});
const pacmakCdktn = project.addTask('pacmak:code:cdktn', {
  description: `Generate the Python, Java, C# and Go bindings of the cdktn assembly (code only) into ${CDKTN.codeDir}/`,
  exec: `${cdktnScript} pacmak`,
});

// jest in three lanes side by side and eslint (test/lanes.sh: e2e, packages, the rest); with
// arguments, one plain jest run over them, then eslint
project.testTask.reset('bash test/lanes.sh', { receiveArgs: true });

const ci = project.addTask('ci', {
  description: 'What CI runs: system packages, compile (jsii), type-check, all tests incl. kernel tests',
  env: { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', CHECKPOINT_DISABLE: '1' },
});
ci.spawn(project.tasks.tryFind('system-deps')!);
ci.spawn(project.compileTask);
ci.spawn(project.tasks.tryFind('pacmak:code')!);
ci.spawn(packCdktn);
ci.spawn(pacmakCdktn);
ci.spawn(project.tasks.tryFind('typecheck')!);
ci.spawn(project.testTask);

// API.md is regenerated by compile (post-compile runs docgen)

project.synth();
