import { SMTPServer, type SMTPServerDataStream } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'

export interface TestSmtp {
  url: string
  messages: ParsedMail[]
  /** Answers the next `count` messages with this SMTP error code instead of accepting them. */
  refuseNext(count: number, responseCode: number): void
  close(): Promise<void>
}

/** A real SMTP server on loopback that parses what it receives (smtp-server + mailparser). */
export async function startTestSmtp(): Promise<TestSmtp> {
  const messages: ParsedMail[] = []
  let refusals: { count: number; code: number } = { count: 0, code: 0 }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream: SMTPServerDataStream, _session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', async () => {
        if (refusals.count > 0) {
          refusals.count--
          const error = Object.assign(new Error('try again later'), { responseCode: refusals.code })
          callback(error)
          return
        }
        messages.push(await simpleParser(Buffer.concat(chunks)))
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as { port: number }
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    refuseNext(count, code) {
      refusals = { count, code }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
