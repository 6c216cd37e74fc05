/** Groups a record can belong to (Salsa segments, Luminate groups and interests), as the core knows them. Types only. */

/** A group a record can belong to: a Salsa segment, a Luminate group or interest. */
export interface GroupRef {
  id: string;
  /** How the report names it: the segment's name, "group 1234", "interest 55". */
  label: string;
  /** For targets with more than one kind of group (Luminate: group, interest). */
  kind?: string;
  /** The remote's own type of the group, as it answers it (Salsa segments: DEFAULT, CUSTOM…). */
  type?: string;
}

export type MembershipChange = 'add' | 'remove';

export interface Membership {
  change: MembershipChange;
  group: GroupRef;
}

/** Resolves what a person wrote (an id, an exact name) to one group, or says why it names none. */
export interface GroupDirectory {
  resolve(ref: string): { group: GroupRef } | { error: string };
}

export interface GroupSupport {
  /** What the remote calls them, for messages ("segment", "segments"). */
  noun: { one: string; many: string };
  /**
   * `calls`: memberships are separate calls after the upsert, by remote id (Salsa's segments/members);
   * `inline`: they travel in the row's own request (Luminate's add_group_ids…), which `prepare` builds.
   */
  delivery: 'calls' | 'inline';
  /** Groups are named by id, resolved without asking the remote (Luminate); absent: the session's listGroups. */
  offline?: GroupDirectory;
}
