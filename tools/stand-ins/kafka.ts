import { ChildProcess, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from './moto';

/** The broker's jars, fetched by scripts/setup.sh from Maven Central (tools/engines/kafka/pom.xml). */
export const KAFKA_JARS = path.join(__dirname, '..', 'engines', 'target', 'kafka-jars');

export interface KafkaBroker {
  /** host:port of the broker's PLAINTEXT listener on 127.0.0.1. */
  readonly bootstrap: string;
  /** A kafkajs client of the broker (its logs off: the tests read outcomes, not logs). */
  client(clientId: string): Kafka;
  stop(): Promise<void>;
}

/**
 * Starts one Apache Kafka broker (4.1, KRaft: broker and controller in one process, no ZooKeeper)
 * on 127.0.0.1 with a fresh log folder, and waits until it answers metadata requests. The tests'
 * stand-in for MSK: the same protocol and semantics (partitions, offsets, consumer groups); IAM
 * authentication and TLS are what it does not play. Fails with the setup command when the jars
 * are missing, never skips.
 */
export async function startKafka(options: { partitions?: number } = {}): Promise<KafkaBroker> {
  if (!fs.existsSync(path.join(KAFKA_JARS, 'kafka_2.13-4.1.1.jar'))) {
    throw new Error(`${KAFKA_JARS} has no Kafka broker: run 'npm run setup' (scripts/setup.sh) to fetch it from Maven Central (tools/engines/kafka/pom.xml)`);
  }
  const [port, controllerPort] = [await freePort(), await freePort()];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-'));
  const properties = path.join(dir, 'server.properties');
  fs.writeFileSync(
    properties,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${path.join(dir, 'data')}`,
      `num.partitions=${options.partitions ?? 2}`,
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'group.initial.rebalance.delay.ms=0',
      // MSK Serverless refuses to create topics on first use; so does this broker.
      'auto.create.topics.enable=false',
      '',
    ].join('\n'),
  );
  const classpath = `${KAFKA_JARS}${path.sep}*`;
  // Kafka's cluster id: 16 random bytes, base64url (what `kafka-storage random-uuid` prints).
  // Given as --cluster-id=<id>: an id that starts with '-' (1 in 64) is otherwise read as an option.
  const clusterId = randomBytes(16).toString('base64url');
  const format = spawnSync('java', ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '--standalone', `--cluster-id=${clusterId}`, '-c', properties], { encoding: 'utf8' });
  if (format.status !== 0) throw new Error(`formatting the Kafka log folder failed (${format.status}): ${format.stderr.slice(-2000)}`);

  const child: ChildProcess = spawn('java', ['-Xms128m', '-Xmx512m', '-cp', classpath, 'kafka.Kafka', properties], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
  const bootstrap = `127.0.0.1:${port}`;
  const client = (clientId: string) => new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
  const stop = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        fs.rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null) return done();
      child.once('exit', done);
      child.kill('SIGTERM');
      // A broker that will not stop in 20 s is killed: a test run must end.
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 20_000).unref();
    });

  const admin = client('startup-probe').admin();
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Kafka broker exited with ${child.exitCode}: ${stderr}`);
    try {
      await admin.connect();
      await admin.describeCluster();
      await admin.disconnect();
      break;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the Kafka broker did not answer on ${bootstrap} within 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { bootstrap, client, stop };
}
