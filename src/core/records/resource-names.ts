// How resource names are formed. A user's own resources are named by the user ("101@office");
// resources derived from a user's (voicemail chunks) append "/..." so that the owner is always the
// part before the first '/'. Access policies (USER-MATCH, DEPOSIT) compare that owner with the
// signer's certificate user.

export function userResourceName(extension: string, office: string): string {
  return `${extension}@${office}`;
}

/** The user that owns a resource name: everything before the first '/'. */
export function ownerOfResourceName(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? name : name.slice(0, slash);
}

/** OFFICE-CONFIG lives at one well-known resource per office. */
export function officeConfigResourceName(office: string): string {
  return `office-config@${office}`;
}

/** Each chunk of a large voicemail is its own resource, so chunks spread over the ring. */
export function voicemailChunkResourceName(owner: string, entryId: string, index: number): string {
  return `${owner}/vm/${entryId}/${index}`;
}

/**
 * Voicemail entry ids start with the depositor's Node-ID: a depositor can then only ever write
 * its own entries, whatever a replica already holds, so replicas decide DEPOSIT writes alike in
 * any arrival order (no dependence on the existing value).
 */
export function depositEntryId(depositorNodeId: string, unique: string): string {
  return `${depositorNodeId}-${unique}`;
}

/** The Node-ID an entry id was made for (see depositEntryId), or undefined. */
export function depositorOfEntryId(entryId: string): string | undefined {
  const m = /^([0-9a-f]{32})-./.exec(entryId);
  return m ? m[1] : undefined;
}

/** The entry id inside a chunk resource name "owner/vm/<entry>/<index>", or undefined. */
export function entryIdOfChunkResource(name: string): string | undefined {
  const parts = name.split('/');
  return parts.length === 4 && parts[1] === 'vm' ? parts[2] : undefined;
}

export type GreetingName = 'unavailable' | 'busy';

/** A user's greeting of one kind (GREETING, single): "101@office/greeting/busy". */
export function greetingResourceName(owner: string, kind: GreetingName): string {
  return `${owner}/greeting/${kind}`;
}
