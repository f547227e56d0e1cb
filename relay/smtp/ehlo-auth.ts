/**
 * RFC 4954 §4: a server should not advertise SASL mechanisms it would refuse. smtp-server lists AUTH in
 * the EHLO reply of a session that is not yet secure, then answers AUTH with 538 because insecure AUTH is
 * off; this leaves AUTH out of EHLO until the session is secure (implicit TLS, after STARTTLS, or TLS at
 * a trusted proxy), as Postfix does with smtpd_tls_auth_only.
 */
interface EhloConnection {
  /** smtp-server's own flag: true from the start on a secure engine, and after STARTTLS. */
  secure: boolean;
  send(code: number, data?: string | string[], context?: string | false): void;
}

export function hideAuthUntilSecure(connection: EhloConnection): void {
  const send = connection.send.bind(connection);
  connection.send = (code, data, context) => {
    // The EHLO reply is the one 250 whose text is a list: the greeting line, then one capability each.
    const ehlo = code === 250 && Array.isArray(data) && !connection.secure;
    send(code, ehlo ? data.filter((line) => !/^AUTH\b/i.test(line)) : data, context);
  };
}
