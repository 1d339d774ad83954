import { SMTPServer, type SMTPServerDataStream } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'

export interface TestSmtp {
  url: string
  messages: ParsedMail[]
  /** Every message transmitted, in order, and what the server did with it: accepted, an SMTP code, or dropped. */
  attempts: Array<{ subject: string; outcome: 'accepted' | 'dropped' | 'unanswered' | number; messageId?: string }>
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
  /**
   * Answers the end of the next `count` messages (with `subject`: whose subject contains it) only
   * after `afterMs`, and then accepts them, whether the client still waits or not: a server that
   * delivers before it answers. `Infinity`: never answers, and keeps nothing.
   */
  answerLate(count: number, afterMs: number, subject?: string): void
  close(): Promise<void>
}

interface Fault {
  count: number
  /** An SMTP reply code, 'drop' for a dropped connection, or how long to wait before accepting. */
  kind: number | 'drop' | { afterMs: number }
  subject?: string
}

/** A real SMTP server on loopback that parses what it receives (smtp-server + mailparser). */
export async function startTestSmtp(): Promise<TestSmtp> {
  const messages: ParsedMail[] = []
  const attempts: TestSmtp['attempts'] = []
  const faults: Fault[] = []
  const lateAnswers = new Set<NodeJS.Timeout>()
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
        const late = typeof fault === 'object' ? fault.afterMs : undefined
        const outcome = fault === 'drop' ? 'dropped' : late === Infinity ? 'unanswered' : typeof fault === 'number' ? fault : 'accepted'
        attempts.push({ subject: mail.subject ?? '', outcome, ...(mail.messageId ? { messageId: mail.messageId } : {}) })
        if (late === Infinity) return
        if (late !== undefined) {
          const timer = setTimeout(() => {
            lateAnswers.delete(timer)
            messages.push(mail)
            callback()
          }, late)
          lateAnswers.add(timer)
          return
        }
        if (fault === 'drop') {
          const connections = (server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }).connections
          for (const connection of connections) if (connection.id === session.id) connection._socket.destroy()
          return
        }
        if (typeof fault === 'number') {
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
    answerLate(count, afterMs, subject) {
      faults.push({ count, kind: { afterMs }, ...(subject === undefined ? {} : { subject }) })
    },
    close: () => {
      for (const timer of lateAnswers) clearTimeout(timer)
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
