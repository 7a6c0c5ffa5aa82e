import * as fs from 'fs';
import * as path from 'path';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DescribeThingCommand,
  IoTClient,
  ListThingPrincipalsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-iot';

export interface OnboardingRequest {
  readonly vehicleId: string;
  readonly thingTypeName: string;
  readonly policyName: string;
  /** Folder for the vehicle's files: <outDir>/<vehicleId>/{certificate.pem.crt, private.pem.key, public.pem.key, certificate.arn}. */
  readonly outDir: string;
}

export interface OnboardingResult {
  readonly thingName: string;
  readonly certificateArn: string;
  /** What this run did; an empty list means the vehicle was already onboarded. */
  readonly actions: readonly string[];
  readonly directory: string;
}

const VEHICLE_ID = /^[A-Za-z0-9:_-]{1,128}$/; // IoT thing names

/**
 * Onboards one vehicle: the thing (of the platform's thing type), a certificate with its keys
 * written to disk, the thing policy attached to the certificate, and the certificate attached to
 * the thing. Idempotent: each step checks what exists, so a re-run after success does nothing and
 * a re-run after a failure finishes the job with the certificate already made (its ARN is kept
 * beside the keys), never creating a second one.
 */
export async function onboardVehicle(iot: IoTClient, request: OnboardingRequest): Promise<OnboardingResult> {
  if (!VEHICLE_ID.test(request.vehicleId)) throw new Error(`vehicle id '${request.vehicleId}' is not a valid IoT thing name (letters, digits, : _ -)`);
  const thingName = request.vehicleId;
  const directory = path.join(request.outDir, thingName);
  const files = {
    certificate: path.join(directory, 'certificate.pem.crt'),
    privateKey: path.join(directory, 'private.pem.key'),
    publicKey: path.join(directory, 'public.pem.key'),
    arn: path.join(directory, 'certificate.arn'),
  };
  const actions: string[] = [];

  try {
    await iot.send(new DescribeThingCommand({ thingName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await iot.send(new CreateThingCommand({ thingName, thingTypeName: request.thingTypeName }));
    actions.push('created thing');
  }

  const attached = (await iot.send(new ListThingPrincipalsCommand({ thingName }))).principals ?? [];
  let certificateArn = fs.existsSync(files.arn) ? fs.readFileSync(files.arn, 'utf8').trim() : undefined;
  if (attached.length > 0 && (!certificateArn || !attached.includes(certificateArn))) {
    throw new Error(
      `thing ${thingName} already has a certificate (${attached.join(', ')}) whose keys are not in ${directory}; ` +
        'onboarding will not create a second identity: rotate or revoke the existing certificate first',
    );
  }
  if (!certificateArn) {
    const created = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
    // Keys first, the ARN last: the ARN file marks a complete set that a re-run can reuse.
    writeSecret(files.privateKey, created.keyPair!.PrivateKey!);
    fs.writeFileSync(files.publicKey, created.keyPair!.PublicKey!);
    fs.writeFileSync(files.certificate, created.certificatePem!);
    fs.writeFileSync(files.arn, `${created.certificateArn!}\n`);
    certificateArn = created.certificateArn!;
    actions.push('created certificate and keys');
  }
  if (!attached.includes(certificateArn)) {
    // Both calls are idempotent on AWS IoT: attaching what is attached is not an error.
    await iot.send(new AttachPolicyCommand({ policyName: request.policyName, target: certificateArn }));
    await iot.send(new AttachThingPrincipalCommand({ thingName, principal: certificateArn }));
    actions.push('attached policy and certificate');
  }
  return { thingName, certificateArn, actions, directory };
}

function writeSecret(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: 0o600 });
}
