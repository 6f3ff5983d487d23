import { describe, expect, it } from 'vitest';
import { CreateUserBody, ListUsersQuery, UpdateUserStatusBody, userView, type UserRecord } from '../../../shared/domain/users.ts';

const validBody = () => ({
  ekyc: {
    first_name: 'Tai Man',
    last_name: 'Chan',
    date_of_birth: '1990-05-17',
    nationality: 'HK',
    id_type: 'passport',
    id_number: 'K12345678',
    email: 'taiman.chan@example.com',
    phone: '+85291234567',
    address: { line1: '1 Queen\'s Road Central', line2: 'Flat 2A', city: 'Hong Kong', postal_code: '999077', country: 'HK' },
  },
  external_id: 'crm-42',
});

function issuePaths(value: unknown): string[] {
  const result = CreateUserBody.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.')).sort();
}

describe('CreateUserBody', () => {
  it('accepts the body of API.md', () => {
    expect(CreateUserBody.safeParse(validBody()).success).toBe(true);
  });

  it('accepts a body without the optional external_id, line2 and postal_code', () => {
    const body = validBody();
    delete (body as { external_id?: string }).external_id;
    delete (body.ekyc.address as { line2?: string }).line2;
    delete (body.ekyc.address as { postal_code?: string }).postal_code;
    expect(CreateUserBody.safeParse(body).success).toBe(true);
  });

  it('trims strings and upper-cases country codes', () => {
    const body = validBody();
    body.ekyc.first_name = '  Tai Man ';
    body.ekyc.email = ' taiman.chan@example.com ';
    body.ekyc.nationality = 'hk';
    body.external_id = ' crm-42 ';
    const parsed = CreateUserBody.parse(body);
    expect(parsed.ekyc.first_name).toBe('Tai Man');
    expect(parsed.ekyc.email).toBe('taiman.chan@example.com');
    expect(parsed.ekyc.nationality).toBe('HK');
    expect(parsed.external_id).toBe('crm-42');
  });

  it('requires every eKYC field', () => {
    expect(issuePaths({ ekyc: {} })).toEqual(
      ['address', 'date_of_birth', 'email', 'first_name', 'id_number', 'id_type', 'last_name', 'nationality', 'phone'].map((f) => `ekyc.${f}`),
    );
    expect(issuePaths({})).toEqual(['ekyc']);
  });

  it('points at each invalid field by its path', () => {
    const body = validBody();
    body.ekyc.phone = '9123 4567';
    body.ekyc.email = 'not-an-email';
    body.ekyc.nationality = 'XX';
    body.ekyc.id_type = 'library_card';
    body.ekyc.date_of_birth = '2023-02-29';
    body.ekyc.address.country = 'ZZ';
    body.ekyc.last_name = '   ';
    expect(issuePaths(body)).toEqual([
      'ekyc.address.country',
      'ekyc.date_of_birth',
      'ekyc.email',
      'ekyc.id_type',
      'ekyc.last_name',
      'ekyc.nationality',
      'ekyc.phone',
    ]);
  });

  it('rejects a date of birth in the future', () => {
    const body = validBody();
    body.ekyc.date_of_birth = `${new Date().getUTCFullYear() + 1}-01-01`;
    expect(issuePaths(body)).toEqual(['ekyc.date_of_birth']);
  });

  it('rejects an id number too short to mask', () => {
    const body = validBody();
    body.ekyc.id_number = 'A-12-3';
    expect(issuePaths(body)).toEqual(['ekyc.id_number']);
  });

  it('bounds the lengths of strings', () => {
    const body = validBody();
    body.ekyc.first_name = 'a'.repeat(101);
    body.external_id = 'x'.repeat(129);
    body.ekyc.address.line1 = 'l'.repeat(201);
    expect(issuePaths(body)).toEqual(['ekyc.address.line1', 'ekyc.first_name', 'external_id']);
  });

  it('rejects an empty external_id and control characters in names', () => {
    const body = validBody();
    body.external_id = '';
    body.ekyc.first_name = 'Tai\u0000Man';
    expect(issuePaths(body)).toEqual(['ekyc.first_name', 'external_id']);
  });
});

describe('UpdateUserStatusBody', () => {
  it('accepts Active and Suspended only', () => {
    expect(UpdateUserStatusBody.safeParse({ status: 'Suspended' }).success).toBe(true);
    expect(UpdateUserStatusBody.safeParse({ status: 'Active' }).success).toBe(true);
    expect(UpdateUserStatusBody.safeParse({ status: 'Terminated' }).success).toBe(false);
    expect(UpdateUserStatusBody.safeParse({}).success).toBe(false);
  });
});

describe('ListUsersQuery', () => {
  it('defaults the limit to 20', () => {
    expect(ListUsersQuery.parse({})).toEqual({ limit: 20 });
  });

  it('accepts limits 1 to 100 and rejects everything else', () => {
    expect(ListUsersQuery.parse({ limit: '1' }).limit).toBe(1);
    expect(ListUsersQuery.parse({ limit: '100' }).limit).toBe(100);
    for (const limit of ['0', '101', '-1', '2.5', 'ten', '']) {
      expect(ListUsersQuery.safeParse({ limit }).success, limit).toBe(false);
    }
  });
});

describe('userView', () => {
  it('is the user of API.md with the masked eKYC and a null external_id when absent', () => {
    const user: UserRecord = {
      userId: '0190a3c4-0000-7000-8000-0000000000b1',
      businessId: '0190a3c4-0000-7000-8000-000000000001',
      status: 'Active',
      externalId: null,
      createdAt: '2025-03-04T03:32:11.051702Z',
      updatedAt: '2025-03-04T03:32:11.051702Z',
    };
    const ekyc = CreateUserBody.parse(validBody()).ekyc;
    expect(userView(user, ekyc)).toEqual({
      p_user_id: user.userId,
      p_business_id: user.businessId,
      status: 'Active',
      external_id: null,
      ekyc: {
        first_name: 'Tai Man',
        last_name: 'Chan',
        nationality: 'HK',
        id_type: 'passport',
        id_number_last4: '5678',
        email: 'taiman.chan@example.com',
        phone: '+85291234567',
      },
      p_created_at: '2025-03-04T03:32:11.051702Z',
      p_updated_at: '2025-03-04T03:32:11.051702Z',
    });
  });
});
