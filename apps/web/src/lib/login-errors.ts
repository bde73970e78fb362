// Why a sign-in was refused: the login route redirects with ?error=<code>, and the sign-in page shows
// the fixed sentence for that code (never text taken from the URL). Pure.

export const LOGIN_ERRORS = {
  form: "Send the sign-in form.",
  wrong: "Wrong user name or password.",
  disabled: "Sign-in is disabled: set CORRAL_WEB_PASSWORD on the dashboard's server.",
  locked: "Too many failed sign-ins: sign-in is locked for a few minutes. Try again later.",
} as const;

export type LoginErrorCode = keyof typeof LOGIN_ERRORS;

/** The sentence for an ?error= value, or undefined for anything that is not one of ours. */
export function loginErrorText(code: string | undefined): string | undefined {
  return code !== undefined && Object.hasOwn(LOGIN_ERRORS, code) ? LOGIN_ERRORS[code as LoginErrorCode] : undefined;
}
