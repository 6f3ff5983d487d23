/**
 * Users (B2C cardholders): the request schemas of API.md, the statuses, and the one public view of
 * a user. Pure: no AWS. The eKYC rules themselves live in `./ekyc.ts`.
 */
import * as z from '../zod.ts';
import {
  dateOfBirthProblem,
  idNumberAlphanumerics,
  ID_TYPES,
  isCountryCode,
  isE164,
  maskEkyc,
  MIN_ID_NUMBER_ALPHANUMERICS,
  utcDate,
  type Ekyc,
  type MaskedEkyc,
} from './ekyc.ts';

export const USER_STATUSES = ['Active', 'Suspended'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/** Control characters have no place in a name or an address and break downstream systems. */
const NO_CONTROL_CHARACTERS = /^[^\p{Cc}]*$/u;

/** A trimmed, non-empty line of text of at most `max` characters. */
const line = (max: number) =>
  z.string().check(z.trim(), z.minLength(1), z.maxLength(max), z.regex(NO_CONTROL_CHARACTERS, 'must not contain control characters'));

const CountryCode = z
  .string()
  .check(z.trim(), z.toUpperCase(), z.refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code such as "HK"'));

const DateOfBirth = z.string().check(
  z.trim(),
  z.superRefine((value, ctx) => {
    const problem = dateOfBirthProblem(value, utcDate(new Date()));
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

const IdNumber = line(64).check(
  z.refine(
    (value) => idNumberAlphanumerics(value).length >= MIN_ID_NUMBER_ALPHANUMERICS,
    `must have at least ${MIN_ID_NUMBER_ALPHANUMERICS} letters or digits`,
  ),
);

const Phone = z.string().check(z.trim(), z.refine(isE164, 'must be an E.164 phone number such as "+85291234567"'));

const Email = z.pipe(z.string().check(z.trim()), z.email('must be a valid email address').check(z.maxLength(254)));

export const EkycAddressSchema = z.object({
  line1: line(200),
  line2: z.optional(line(200)),
  city: line(100),
  postal_code: z.optional(line(20)),
  country: CountryCode,
});

export const EkycSchema = z.object({
  first_name: line(100),
  last_name: line(100),
  date_of_birth: DateOfBirth,
  nationality: CountryCode,
  id_type: z.enum(ID_TYPES),
  id_number: IdNumber,
  email: Email,
  phone: Phone,
  address: EkycAddressSchema,
});

/** `POST /v1/users` */
export const CreateUserBody = z.object({
  ekyc: EkycSchema,
  /** The partner's own id for this user; unique within the business. */
  external_id: z.optional(line(128)),
});
export type CreateUserBody = z.output<typeof CreateUserBody>;

/** `PATCH /v1/users/{p_user_id}` */
export const UpdateUserStatusBody = z.object({ status: z.enum(USER_STATUSES) });
export type UpdateUserStatusBody = z.output<typeof UpdateUserStatusBody>;

/** `GET /v1/users` */
export const ListUsersQuery = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  cursor: z.optional(z.string().check(z.minLength(1))),
});
export type ListUsersQuery = z.output<typeof ListUsersQuery>;

/** A user as stored, without its (encrypted) eKYC. */
export interface UserRecord {
  userId: string;
  businessId: string;
  status: UserStatus;
  externalId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The user of API.md. */
export interface UserView {
  p_user_id: string;
  p_business_id: string;
  status: UserStatus;
  external_id: string | null;
  ekyc: MaskedEkyc;
  p_created_at: string;
  p_updated_at: string;
}

export function userView(user: UserRecord, ekyc: Ekyc): UserView {
  return {
    p_user_id: user.userId,
    p_business_id: user.businessId,
    status: user.status,
    external_id: user.externalId,
    ekyc: maskEkyc(ekyc),
    p_created_at: user.createdAt,
    p_updated_at: user.updatedAt,
  };
}

export function isUserStatus(value: unknown): value is UserStatus {
  return typeof value === 'string' && (USER_STATUSES as readonly string[]).includes(value);
}
