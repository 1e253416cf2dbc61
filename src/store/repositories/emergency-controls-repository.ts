// Emergency controls (lockdowns, bypass windows).
import type { Selectable } from 'kysely';
import type { EmergencyControl, EmergencyState } from '../../core/emergency-control.ts';
import type { EmergencyControlsTable } from '../schema.ts';
import { Repository } from './repository.ts';
import { translateWriteError } from './write-errors.ts';

export class EmergencyControlsRepository extends Repository {
  async createEmergencyControl(control: EmergencyControl): Promise<EmergencyControl> {
    try {
      await this.db
        .insertInto('emergency_controls')
        .values({
          id: control.id,
          kind: control.scope.kind,
          state: control.state,
          record: JSON.stringify(control),
          expires_at_ms: control.expiresAtMs,
          created_at_ms: control.createdAtMs,
        })
        .execute();
    } catch (err) {
      throw translateWriteError(err, 'emergency control', { id: `id "${control.id}"` });
    }
    return control;
  }

  async getEmergencyControl(id: string): Promise<EmergencyControl | undefined> {
    const row = await this.db
      .selectFrom('emergency_controls')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toEmergencyControl(row);
  }

  async listEmergencyControls(query: { state?: EmergencyState } = {}): Promise<EmergencyControl[]> {
    let q = this.db.selectFrom('emergency_controls').selectAll();
    if (query.state !== undefined) q = q.where('state', '=', query.state);
    const rows = await q.orderBy('created_at_ms').orderBy('id').execute();
    return rows.map(toEmergencyControl);
  }

  async updateEmergencyControl(
    control: EmergencyControl,
    expectedState: EmergencyState,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('emergency_controls')
      .set({
        state: control.state,
        record: JSON.stringify(control),
        expires_at_ms: control.expiresAtMs,
      })
      .where('id', '=', control.id)
      .where('state', '=', expectedState)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }
}

function toEmergencyControl(row: Selectable<EmergencyControlsTable>): EmergencyControl {
  return JSON.parse(row.record) as EmergencyControl;
}
