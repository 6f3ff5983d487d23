/** `users/create-user` -> `UsersCreateUser`; `otp` -> `Otp`: stable construct ids from table rows. */
export function pascal(value: string): string {
  return value
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
