#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../lib/config';
import { buildPlatform } from '../lib/platform';

// Only reads the environment name (-c env=dev|staging|prod, dev when absent) and builds the stacks.
const app = new App();
buildPlatform(app, loadConfig(app.node.tryGetContext('env')));
