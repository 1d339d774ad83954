import { existsSync, readFileSync, statSync } from 'node:fs'
import { isAbsolute, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { loadConfig } from '../../core/config.ts'

// The deployable stack, checked without a Docker engine: docker-compose.yml is parsed and held
// against the files it mounts (redis.conf, the ClickHouse users, Grafana's provisioning), the
// Dockerfile and the CLI it runs.

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')

interface Service {
  image?: string
  build?: { context?: string; dockerfile?: string } | string
  command?: string[] | string
  environment?: Record<string, string | number | boolean | null> | string[]
  volumes?: (string | { type?: string; source?: string; target?: string; read_only?: boolean })[]
  ports?: (string | number | { published?: string | number; host_ip?: string })[]
  depends_on?: Record<string, { condition?: string }> | string[]
  healthcheck?: { test?: unknown; interval?: string; timeout?: string; retries?: number; start_period?: string }
  container_name?: string
}

const composeText = read('docker-compose.yml')
// Compose reads YAML 1.1 merge keys (`<<: [*a, *b]`); so must we.
const compose = parseYaml(composeText, { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> }
const services = compose.services

/** Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `${VAR:?error}` against `env`. */
function interpolate(text: string, env: Record<string, string> = {}): string {
  return text.replace(/\$\{(\w+)(?:(:?[-?])([^}]*))?\}/g, (_, name: string, operator: string | undefined, argument: string) => {
    const value = env[name]
    const set = operator?.startsWith(':') ? value !== undefined && value !== '' : value !== undefined
    if (set) return value!
    if (operator?.endsWith('?')) throw new Error(`${name} is required: ${argument}`)
    return operator ? argument : ''
  })
}

function environment(service: Service): Record<string, string | null> {
  const env = service.environment ?? {}
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => (entry.includes('=') ? [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] : [entry, null])))
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? null : String(value)]))
}

interface Mount {
  source: string
  target: string
  readOnly: boolean
  bind: boolean
}

function mounts(service: Service): Mount[] {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume === 'string') {
      const [source = '', target = '', mode = ''] = interpolate(volume).split(':')
      return { source, target, readOnly: mode.split(',').includes('ro'), bind: /^[./~]/.test(source) }
    }
    return { source: interpolate(volume.source ?? ''), target: volume.target ?? '', readOnly: volume.read_only === true, bind: volume.type === 'bind' }
  })
}

function dependsOn(service: Service): Record<string, string> {
  const deps = service.depends_on ?? {}
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, 'service_started']))
  return Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep.condition ?? 'service_started']))
}

const command = (service: Service) => (Array.isArray(service.command) ? service.command : (service.command ?? '').split(/\s+/).filter(Boolean))

/** The environment variables the example plan takes its API tokens from. */
const examplePlan = parseYaml(read('examples/plan.yaml')) as { strategy: { networks: { accounts: { tokenEnv: string }[] }[] } }
const planTokenEnvs = examplePlan.strategy.networks.flatMap((network) => network.accounts.map((account) => account.tokenEnv))

const APP_SERVICES = { migrate: 'migrate', scheduler: 'scheduler', worker: 'worker' } as const
const REQUIRED_SECRET = /^\$\{[A-Z_][A-Z0-9_]*:\?[^}]+\}$/

/** The ClickHouse users file, read just enough: users, their profile and password source; profiles' readonly. */
function clickhouseUsers(xml: string) {
  const text = xml.replace(/<!--[\s\S]*?-->/g, '')
  const children = (block: string) => [...block.matchAll(/<(\w+)(?:\s[^>]*)?>([\s\S]*?)<\/\1>/g)].map((m) => ({ name: m[1]!, body: m[2]! }))
  const section = (name: string) => new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(text)?.[1] ?? ''
  const users = children(section('users')).map(({ name, body }) => ({
    name,
    profile: /<profile>(\w+)<\/profile>/.exec(body)?.[1],
    passwordFromEnv: /<password\s+from_env="(\w+)"\s*\/>/.exec(body)?.[1],
    literalPassword: /<password(?:_sha256_hex|_double_sha1_hex)?>[^<]+</.test(body),
  }))
  const profiles = Object.fromEntries(children(section('profiles')).map(({ name, body }) => [name, { readonly: Number(/<readonly>(\d)<\/readonly>/.exec(body)?.[1] ?? 0) }]))
  return { users, profiles }
}

describe('docker-compose.yml', () => {
  it('has the whole stack', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['redis', 'clickhouse', 'grafana', 'mailpit', 'prometheus', 'migrate', 'scheduler', 'worker']))
  })

  it('every mounted host path exists in the repository', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const mount of mounts(service).filter((m) => m.bind)) {
        expect(isAbsolute(mount.source), `${name} mounts the absolute host path ${mount.source}`).toBe(false)
        const path = normalize(join(ROOT, mount.source))
        expect(path.startsWith(ROOT), `${name} mounts ${mount.source}, outside the repository`).toBe(true)
        expect(existsSync(path), `${name} mounts ${mount.source}, which does not exist`).toBe(true)
      }
    }
  })

  it('named volumes are declared', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const mount of mounts(service).filter((m) => !m.bind)) {
        expect(Object.keys(compose.volumes ?? {}), `${name} uses volume ${mount.source}`).toContain(mount.source)
      }
    }
  })

  it('Redis runs our redis.conf: AOF every second, noeviction, reachable by the other containers, no password in the file', () => {
    const redis = services.redis!
    expect(redis.image).toMatch(/^redis:7(\b|$)/)
    const conf = mounts(redis).find((m) => m.bind)
    expect(conf).toMatchObject({ source: './infra/redis/redis.conf', readOnly: true })
    expect(command(redis)).toEqual(['redis-server', conf!.target])
    expect(mounts(redis).find((m) => m.target === '/data')?.bind).toBe(false)

    const directives = new Map(
      read('infra/redis/redis.conf')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => [line.split(/\s+/)[0]!.toLowerCase(), line.split(/\s+/).slice(1).join(' ')] as const),
    )
    expect(directives.get('appendonly')).toBe('yes')
    expect(directives.get('appendfsync')).toBe('everysec')
    expect(directives.get('maxmemory-policy')).toBe('noeviction')
    expect(directives.get('dir')).toBe('/data')
    expect(directives.get('bind')).toBeDefined()
    expect(directives.get('bind')).not.toMatch(/^(127\.0\.0\.1|::1|\s)+$/)
    expect(directives.has('requirepass')).toBe(false)
  })

  it('ClickHouse gets our users file, a data volume and a healthcheck', () => {
    const clickhouse = services.clickhouse!
    expect(clickhouse.image).toMatch(/^clickhouse\/clickhouse-server:/)
    expect(mounts(clickhouse)).toEqual(
      expect.arrayContaining([
        { source: './infra/clickhouse/users.d/social-kpi.xml', target: '/etc/clickhouse-server/users.d/social-kpi.xml', readOnly: true, bind: true },
        expect.objectContaining({ target: '/var/lib/clickhouse', bind: false }),
      ]),
    )
    expect(clickhouse.healthcheck?.test).toBeDefined()
    // The image's entrypoint turns these into a `default` user with network access.
    expect(Object.keys(environment(clickhouse))).not.toEqual(expect.arrayContaining(['CLICKHOUSE_PASSWORD']))
    expect(Object.keys(environment(clickhouse))).not.toEqual(expect.arrayContaining(['CLICKHOUSE_USER']))
  })

  it('ClickHouse users: the app writes, Grafana and analysts only read, every password comes from a required variable', () => {
    const { users, profiles } = clickhouseUsers(read('infra/clickhouse/users.d/social-kpi.xml'))
    const env = environment(services.clickhouse!)
    const user = (name: string) => users.find((u) => u.name === name)
    for (const u of users) expect(u.literalPassword, `user ${u.name} has a password written in the file`).toBe(false)
    for (const name of ['social_kpi', 'grafana', 'analyst']) {
      const found = user(name)
      expect(found?.passwordFromEnv, `user ${name} takes its password from_env`).toBeDefined()
      expect(env[found!.passwordFromEnv!], `clickhouse's ${found!.passwordFromEnv} is required`).toMatch(REQUIRED_SECRET)
    }
    expect(profiles[user('grafana')!.profile!]?.readonly).toBeGreaterThanOrEqual(1)
    expect(profiles[user('analyst')!.profile!]?.readonly).toBeGreaterThanOrEqual(1)
    expect(profiles[user('social_kpi')!.profile!]?.readonly ?? 0).toBe(0)

    // The data source Grafana provisions logs in as the read-only user.
    const datasource = parseYaml(read('infra/grafana/provisioning/datasources/clickhouse.yaml')).datasources[0]
    expect(datasource.jsonData.username).toBe('grafana')
  })

  it('Grafana installs the ClickHouse plugin and mounts the provisioning and the dashboards read-only', () => {
    const grafana = services.grafana!
    const env = environment(grafana)
    expect(env.GF_INSTALL_PLUGINS?.split(',').map((p) => p.trim())).toContain('grafana-clickhouse-datasource')
    const provider = parseYaml(read('infra/grafana/provisioning/dashboards/social-kpi.yaml')).providers[0]
    expect(mounts(grafana)).toEqual(
      expect.arrayContaining([
        { source: './infra/grafana/provisioning/datasources', target: '/etc/grafana/provisioning/datasources', readOnly: true, bind: true },
        { source: './infra/grafana/provisioning/dashboards', target: '/etc/grafana/provisioning/dashboards', readOnly: true, bind: true },
        { source: './dashboards', target: provider.options.path, readOnly: true, bind: true },
      ]),
    )
    // The data source's password variable is handed to the container, and required.
    const datasource = parseYaml(read('infra/grafana/provisioning/datasources/clickhouse.yaml')).datasources[0]
    const variable = /^\$\{?(\w+)\}?$/.exec(datasource.secureJsonData.password)![1]!
    expect(env[variable]).toMatch(REQUIRED_SECRET)
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toMatch(REQUIRED_SECRET)
    expect(dependsOn(grafana).clickhouse).toBe('service_healthy')
  })

  it('Mailpit takes SMTP on 1025 from the app and shows the UI on 8025', () => {
    expect(services.mailpit!.image).toMatch(/^axllent\/mailpit/)
    expect(services.mailpit!.ports?.map(String)).toContain('127.0.0.1:8025:8025')
  })

  it.each(Object.entries(APP_SERVICES))('%s is built from ./Dockerfile and runs `social-kpi %s`', (name, cli) => {
    const service = services[name]!
    const build = typeof service.build === 'string' ? { context: service.build } : service.build
    expect(build?.context).toBe('.')
    expect(existsSync(join(ROOT, build?.context ?? '.', build?.dockerfile ?? 'Dockerfile'))).toBe(true)
    expect(command(service)[0]).toBe(cli)

    const env = environment(service)
    const secrets = { CLICKHOUSE_PASSWORD: 's3cret' }
    expect(env.REDIS_URL).toBe('redis://redis:6379')
    expect(interpolate(env.CLICKHOUSE_URL!, secrets)).toBe('http://social_kpi:s3cret@clickhouse:8123/social_kpi')
    expect(() => interpolate(env.CLICKHOUSE_URL!)).toThrow(/CLICKHOUSE_PASSWORD is required/)
    expect(env.SMTP_URL).toBe('smtp://mailpit:1025')
    expect(env.START_PRIVATE_REDIS).toBe('false')
    expect(dependsOn(service).clickhouse).toBe('service_healthy')
  })

  it('the scheduler and workers read the mounted plan, get the API tokens, and start after the migration', () => {
    for (const name of ['scheduler', 'worker']) {
      const service = services[name]!
      const args = command(service)
      const plan = interpolate(args[args.indexOf('--plan') + 1] ?? '')
      expect(plan, `${name} --plan`).toBe('/plan/plan.yaml')
      const planMount = mounts(service).find((m) => plan.startsWith(`${m.target}/`))
      expect(planMount, `${name} mounts the plan's folder`).toMatchObject({ source: './examples', readOnly: true, bind: true })
      expect(statSync(join(ROOT, planMount!.source)).isDirectory()).toBe(true)
      expect(existsSync(join(ROOT, planMount!.source, plan.slice(planMount!.target.length + 1))), `${name}: the default plan file exists`).toBe(true)
      expect(planTokenEnvs.length).toBeGreaterThan(0)
      // Every token the example plan names is passed through from the host, never written here.
      for (const tokenEnv of planTokenEnvs) expect(environment(service), `${name} gets ${tokenEnv}`).toHaveProperty(tokenEnv, null)
      expect(dependsOn(service)).toMatchObject({ redis: 'service_healthy', clickhouse: 'service_healthy', migrate: 'service_completed_successfully' })
    }
    for (const dependency of ['redis', 'clickhouse']) expect(services[dependency]!.healthcheck?.test, `${dependency} healthcheck`).toBeDefined()
  })

  it('workers can be scaled: no fixed container name, no published port', () => {
    expect(services.worker!.container_name).toBeUndefined()
    expect(services.worker!.ports ?? []).toEqual([])
  })

  it('holds no literal secret: every password, token or secret is a variable', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(environment(service))) {
        if (/PASSWORD|TOKEN|SECRET/i.test(key)) {
          expect(value === null || REQUIRED_SECRET.test(value), `${name}.${key} = ${value}`).toBe(true)
        }
        const credentials = /:\/\/[^/\s:@]+:([^@\s]+)@/.exec(value ?? '')
        if (credentials) expect(credentials[1], `${name}.${key} has a password in its URL`).toMatch(REQUIRED_SECRET)
      }
    }
    expect(composeText).not.toMatch(/--requirepass\s+[^$\s"]/)
  })

  it('publishes ports on 127.0.0.1 only; Redis not at all', () => {
    expect(services.redis!.ports ?? []).toEqual([])
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        const hostIp = typeof port === 'object' ? port.host_ip : String(port).split(':').length === 3 ? String(port).split(':')[0] : undefined
        expect(hostIp, `${name} publishes ${JSON.stringify(port)} on every interface`).toBe('127.0.0.1')
      }
    }
  })
})

describe('docker-compose.yml: Prometheus and the ops listener', () => {
  const prometheusConfig = () => {
    const prometheus = services.prometheus!
    const file = /^--config\.file=(.+)$/.exec(command(prometheus).find((arg) => arg.startsWith('--config.file=')) ?? '')?.[1]
    expect(file, 'prometheus --config.file').toBeDefined()
    const mount = mounts(prometheus).find((m) => m.target === file)
    expect(mount).toMatchObject({ source: './infra/prometheus/prometheus.yml', readOnly: true, bind: true })
    return parseYaml(read(mount!.source)) as {
      global?: { scrape_interval?: string }
      scrape_configs: { job_name: string; metrics_path?: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; type?: string; port: number }[] }[]
    }
  }

  it('the scheduler and the workers serve /metrics on every interface of the container, on no host port', () => {
    for (const name of ['scheduler', 'worker']) {
      const env = environment(services[name]!)
      // As the app reads it: the same zod schema, so a value it would refuse fails here.
      const config = loadConfig({
        ...Object.fromEntries(
          Object.entries(env)
            .filter((e): e is [string, string] => e[1] !== null)
            .map(([k, v]) => [k, interpolate(v, { CLICKHOUSE_PASSWORD: 's3cret' })]),
        ),
      })
      expect(config.METRICS_HOST, name).toBe('0.0.0.0')
      expect(config.METRICS_PORT, name).toBe(9465)
      expect(services[name]!.ports ?? [], name).toEqual([])
    }
  })

  it('Prometheus scrapes the scheduler and every worker replica at the port their METRICS_PORT names', () => {
    const config = prometheusConfig()
    for (const name of ['scheduler', 'worker']) {
      const port = Number(environment(services[name]!).METRICS_PORT)
      const jobs = config.scrape_configs.filter((job) => (job.dns_sd_configs ?? []).some((sd) => sd.names.includes(name)))
      expect(jobs, `a scrape job for ${name}`).toHaveLength(1)
      expect(jobs[0]!.metrics_path ?? '/metrics').toBe('/metrics')
      // DNS service discovery, type A: compose answers a service name with every replica's address.
      expect(jobs[0]!.dns_sd_configs).toEqual([expect.objectContaining({ names: [name], type: 'A', port })])
    }
    expect(config.global?.scrape_interval).toMatch(/^\d+s$/)
  })

  it('Prometheus keeps its data in a volume, has a healthcheck and publishes its UI on loopback', () => {
    const prometheus = services.prometheus!
    expect(prometheus.image).toMatch(/^prom\/prometheus:v3\./)
    const storage = /^--storage\.tsdb\.path=(.+)$/.exec(command(prometheus).find((arg) => arg.startsWith('--storage.tsdb.path=')) ?? '')?.[1]
    expect(mounts(prometheus).find((m) => m.target === storage)?.bind).toBe(false)
    expect(prometheus.healthcheck?.test).toBeDefined()
    expect(prometheus.ports?.map(String)).toEqual(['127.0.0.1:9090:9090'])
  })

  it('the scheduler and the workers are healthy when /readyz says ready, on their METRICS_PORT', () => {
    for (const name of ['scheduler', 'worker']) {
      const service = services[name]!
      const test = service.healthcheck?.test as string[]
      expect(test[0], name).toBe('CMD')
      // node is the one HTTP client in the image (node:20-slim has no curl or wget).
      expect(test.slice(1, 3)).toEqual(['node', '-e'])
      expect(test[3]).toContain(`http://127.0.0.1:${environment(service).METRICS_PORT}/readyz`)
      expect(test[3]).toMatch(/process\.exit\(r\.ok \? 0 : 1\)/)
      expect(service.healthcheck?.start_period, name).toBeDefined()
    }
  })

  it('Grafana gets a Prometheus data source pointing at the Prometheus service; ClickHouse stays the default', () => {
    const dir = 'infra/grafana/provisioning/datasources'
    const all = ['clickhouse.yaml', 'prometheus.yaml'].flatMap(
      (file) => (parseYaml(read(`${dir}/${file}`)) as { datasources: { uid: string; type: string; url?: string; isDefault?: boolean; editable?: boolean }[] }).datasources,
    )
    const prometheus = all.find((source) => source.type === 'prometheus')!
    expect(prometheus).toMatchObject({ uid: 'social-kpi-prometheus', editable: false })
    const url = new URL(prometheus.url!)
    expect(Object.keys(services)).toContain(url.hostname)
    expect(services[url.hostname]!.ports?.map(String)).toContain(`127.0.0.1:${url.port}:${url.port}`)
    expect(all.filter((source) => source.isDefault).map((source) => source.uid)).toEqual(['social-kpi-clickhouse'])
    // The provisioning folder Grafana mounts is the one holding the file.
    expect(mounts(services.grafana!).some((m) => m.source === `./${dir}`)).toBe(true)
    expect(dependsOn(services.grafana!).prometheus).toBeDefined()
  })
})

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile')
  const instructions = dockerfile
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'))
    .map((line) => line.trim())

  it('builds on node:20-slim with runtime dependencies only', () => {
    expect(instructions.find((line) => line.startsWith('FROM '))).toMatch(/^FROM node:20-slim\b/)
    expect(dockerfile).toMatch(/npm ci --omit=dev\b/)
  })

  it('runs the CLI as a non-root user', () => {
    expect(instructions.find((line) => line.startsWith('ENTRYPOINT '))).toBe('ENTRYPOINT ["node", "bin/social-kpi.js"]')
    expect(existsSync(join(ROOT, 'bin/social-kpi.js'))).toBe(true)
    const user = instructions.filter((line) => line.startsWith('USER ')).at(-1)
    expect(user).toBeDefined()
    expect(user!.split(/\s+/)[1]).not.toMatch(/^(root|0)(:|$)/)
  })

  it('.dockerignore keeps secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
    expect(ignored).toEqual(expect.arrayContaining(['.env', 'node_modules', '.git', 'data']))
  })
})
