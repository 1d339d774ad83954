import { SMTPServer, type SMTPServerDataStream } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'

export interface TestSmtp {
  url: string
  messages: ParsedMail[]
  /** Every message transmitted, in order, and what the server did with it: accepted, an SMTP code, or dropped. */
  attempts: Array<{ subject: string; outcome: 'accepted' | 'dropped' | number }>
  /**
   * Answers the next `count` messages with this SMTP error code instead of accepting them; with
   * `subject`, only messages whose subject contains it.
   */
  refuseNext(count: number, responseCode: number, subject?: string): void
  /**
   * Drops the connection, without an answer, when the next `count` messages (with `subject`: whose
   * subject contains it) have been transmitted: a server that crashes or a network that cuts out.
   */
  dropNext(count: number, subject?: string): void
  close(): Promise<void>
}

interface Fault {
  count: number
  /** An SMTP reply code, or 'drop' for a dropped connection. */
  kind: number | 'drop'
  subject?: string
}

/** A real SMTP server on loopback that parses what it receives (smtp-server + mailparser). */
export async function startTestSmtp(): Promise<TestSmtp> {
  const messages: ParsedMail[] = []
  const attempts: TestSmtp['attempts'] = []
  const faults: Fault[] = []
  const takeFault = (subject: string) => {
    const fault = faults.find((f) => f.count > 0 && (f.subject === undefined || subject.includes(f.subject)))
    if (fault) fault.count--
    return fault?.kind
  }
  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', async () => {
        const mail = await simpleParser(Buffer.concat(chunks))
        const fault = takeFault(mail.subject ?? '')
        attempts.push({ subject: mail.subject ?? '', outcome: fault === 'drop' ? 'dropped' : (fault ?? 'accepted') })
        if (fault === 'drop') {
          const connections = (server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }).connections
          for (const connection of connections) if (connection.id === session.id) connection._socket.destroy()
          return
        }
        if (fault !== undefined) {
          callback(Object.assign(new Error(fault >= 500 ? 'refused' : 'try again later'), { responseCode: fault }))
          return
        }
        messages.push(mail)
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as { port: number }
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    attempts,
    refuseNext(count, code, subject) {
      faults.push({ count, kind: code, ...(subject === undefined ? {} : { subject }) })
    },
    dropNext(count, subject) {
      faults.push({ count, kind: 'drop', ...(subject === undefined ? {} : { subject }) })
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
