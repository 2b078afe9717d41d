/** `wcs`, `wcs@jointcal`, `calexp.wcs@jointcal`: a dataset type and an optional stage. */
import { errors } from '../errors.js';
import type { VersionSpec } from './adapter.js';

const NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$/;
const STAGE = /^[A-Za-z][A-Za-z0-9_.-]*$/;

export function parseTypeSpec(text: string): { type: string; stage: string | undefined } {
  const at = text.indexOf('@');
  const type = at < 0 ? text : text.slice(0, at);
  const stage = at < 0 ? undefined : text.slice(at + 1);
  if (!NAME.test(type)) throw errors.badInput('dataset type', `bad name ${JSON.stringify(type)}`);
  if (stage !== undefined && !STAGE.test(stage)) throw errors.badInput('dataset type', `bad stage ${JSON.stringify(stage)}`);
  return { type, stage };
}

export function checkStageName(stage: string): string {
  if (!STAGE.test(stage) || stage === 'merge') {
    throw errors.badInput('stage', `bad name ${JSON.stringify(stage)} (letters, digits, _ . -; 'merge' is reserved)`);
  }
  return stage;
}

/** Branch and tag names; never shaped like a run id, so REF lookups stay unambiguous. */
export function checkRefName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._\/-]*$/.test(name) || name.includes('..') || /^r-[0-9a-f]{12}$/.test(name)) {
    throw errors.badInput('ref', `bad name ${JSON.stringify(name)}`);
  }
  return name;
}

/** Names that are properties of every JavaScript object (`toString`, `constructor`, `__proto__`): never a type name. */
function isObjectInternal(name: string): boolean {
  return name in Object.prototype || name === '__proto__' || name === 'prototype';
}

export function checkTypeName(name: string): string {
  if (!NAME.test(name)) throw errors.badInput('dataset type', `bad name ${JSON.stringify(name)}`);
  if (name.split('.').some(isObjectInternal)) throw errors.badInput('dataset type', `${JSON.stringify(name)} is reserved`);
  return name;
}

/** A version as the CLI and the web view name it: REF, @STAGE or REF@STAGE (`name` is the option, for the error). */
export function parseVersionArg(text: string, name: string, asOf: string | undefined): VersionSpec {
  const at = text.indexOf('@');
  const ref = at < 0 ? text : text.slice(0, at);
  const stage = at < 0 ? undefined : text.slice(at + 1);
  if ((ref === '' && stage === undefined) || stage === '') throw errors.usage(`--${name}: expected REF, @STAGE or REF@STAGE, got ${JSON.stringify(text)}`);
  return { ...(ref !== '' && { at: ref }), ...(stage !== undefined && { stage }), ...(asOf !== undefined && { asOf }) };
}
