/**
 * eKYC rules of a B2C cardholder: what a valid identity looks like (dates of birth, E.164 phones,
 * ISO 3166-1 countries), how it is masked for the API, and how names and id numbers are normalized
 * before they are fingerprinted, so a transfer can compare a party's eKYC with what was registered
 * without ever decrypting it.
 *
 * Pure: no AWS, no clock (callers pass "today").
 */

/** ISO 3166-1 alpha-2: the 249 officially assigned codes (Intl has no list of regions to ask). */
export const COUNTRY_CODES: ReadonlySet<string> = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ ' +
    'BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
    'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ ' +
    'DE DJ DK DM DO DZ ' +
    'EC EE EG EH ER ES ET ' +
    'FI FJ FK FM FO FR ' +
    'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY ' +
    'HK HM HN HR HT HU ' +
    'ID IE IL IM IN IO IQ IR IS IT ' +
    'JE JM JO JP ' +
    'KE KG KH KI KM KN KP KR KW KY KZ ' +
    'LA LB LC LI LK LR LS LT LU LV LY ' +
    'MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ ' +
    'NA NC NE NF NG NI NL NO NP NR NU NZ ' +
    'OM ' +
    'PA PE PF PG PH PK PL PM PN PR PS PT PW PY ' +
    'QA ' +
    'RE RO RS RU RW ' +
    'SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ ' +
    'TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ ' +
    'UA UG UM US UY UZ ' +
    'VA VC VE VG VI VN VU ' +
    'WF WS ' +
    'YE YT ' +
    'ZA ZM ZW'
  ).split(' '),
);

export function isCountryCode(code: string): boolean {
  return COUNTRY_CODES.has(code);
}

export const ID_TYPES = ['passport', 'national_id', 'driving_license'] as const;
export type IdType = (typeof ID_TYPES)[number];

/** E.164: a '+', a country code that does not start with 0, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{6,14}$/;

export function isE164(phone: string): boolean {
  return E164.test(phone);
}

/** The oldest cardholder we accept; an older date of birth is a typo (1895 for 1995), not a person. */
export const MAX_AGE_YEARS = 120;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `text` is `YYYY-MM-DD` and names a day that exists (no 2023-02-29, no 2024-13-01). */
export function isCalendarDate(text: string): boolean {
  const match = ISO_DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Why `dateOfBirth` is not acceptable on `today` (a UTC calendar date `YYYY-MM-DD`), or undefined
 * when it is: it must be a real date, strictly before today, and at most `MAX_AGE_YEARS` ago.
 */
export function dateOfBirthProblem(dateOfBirth: string, today: string): string | undefined {
  if (!isCalendarDate(dateOfBirth)) return 'must be a real date in the form YYYY-MM-DD';
  // ISO dates of equal length compare correctly as strings.
  if (dateOfBirth >= today) return 'must be in the past';
  const oldest = `${String(Number(today.slice(0, 4)) - MAX_AGE_YEARS).padStart(4, '0')}${today.slice(4)}`;
  if (dateOfBirth < oldest) return `must be at most ${MAX_AGE_YEARS} years ago`;
  return undefined;
}

/** Today's UTC calendar date, `YYYY-MM-DD`. */
export function utcDate(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** At least this many letters and digits, so the last four never give the whole number away. */
export const MIN_ID_NUMBER_ALPHANUMERICS = 5;

/** The letters and digits of an id number, without separators ("A123456(7)" -> "A1234567"). */
export function idNumberAlphanumerics(idNumber: string): string {
  return idNumber.normalize('NFKC').replace(/[^\p{L}\p{N}]/gu, '');
}

/** The last four letters or digits of an id number: all the API ever shows of it. */
export function idNumberLast4(idNumber: string): string {
  return idNumberAlphanumerics(idNumber).slice(-4);
}

/**
 * The canonical form of a name or id number before it is fingerprinted: Unicode NFKC (full-width
 * and compatibility characters become their plain forms), lower case, trimmed, and every run of
 * whitespace collapsed to one space. "  ＪＯＨＮ\t Smith " and "john smith" fingerprint the same.
 */
export function normalizeEkycText(value: string): string {
  return value.normalize('NFKC').toLowerCase().trim().replace(/\s+/gu, ' ');
}

export interface EkycAddress {
  line1: string;
  line2?: string;
  city: string;
  postal_code?: string;
  country: string;
}

/** The full eKYC record of a cardholder, as registered. Only ever stored encrypted. */
export interface Ekyc {
  first_name: string;
  last_name: string;
  date_of_birth: string;
  nationality: string;
  id_type: IdType;
  id_number: string;
  email: string;
  phone: string;
  address: EkycAddress;
}

/**
 * What the API shows of an eKYC record: never the full id number, the date of birth or the
 * address.
 */
export interface MaskedEkyc {
  first_name: string;
  last_name: string;
  nationality: string;
  id_type: IdType;
  id_number_last4: string;
  email: string;
  phone: string;
}

export function maskEkyc(ekyc: Ekyc): MaskedEkyc {
  return {
    first_name: ekyc.first_name,
    last_name: ekyc.last_name,
    nationality: ekyc.nationality,
    id_type: ekyc.id_type,
    id_number_last4: idNumberLast4(ekyc.id_number),
    email: ekyc.email,
    phone: ekyc.phone,
  };
}

/** The identity fields a transfer party states and the platform compares with the registered eKYC. */
export interface EkycIdentity {
  first_name: string;
  last_name: string;
  id_number: string;
}

/** The normalized identity fields, in the form that is fingerprinted. */
export function normalizedIdentity(identity: EkycIdentity): EkycIdentity {
  return {
    first_name: normalizeEkycText(identity.first_name),
    last_name: normalizeEkycText(identity.last_name),
    id_number: normalizeEkycText(identity.id_number),
  };
}
