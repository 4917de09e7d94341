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
