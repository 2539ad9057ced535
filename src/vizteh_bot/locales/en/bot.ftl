# Bot texts in English. Edit the text right of "=", keep the keys on the left.
# { $name } is a placeholder for a value; keep it as it is.
# Telegram HTML: <b>bold</b>, <i>italic</i>, <a href="https://...">link</a>.

## Main menu
menu-greeting =
    Hello, { $name }! 👋
    I am the VizTeh company bot. Leave a request here and a manager will contact you.
menu-button-new-ticket = 📝 Leave a request
menu-button-about = 🏢 About us
menu-hint = Choose an action in the menu: /start

## About us (photo caption: at most 1024 characters)
about-text =
    <b>VizTeh</b> builds and supports information systems for business.

    📍 1 Primernaya St., Moscow
    📞 +7 (495) 000-00-00
    ✉️ info@vizteh.example
    🕘 Mon–Fri, 9:00–18:00 (Moscow time)

## Request form
form-button-back = ⬅️ Back
form-button-cancel = ✖️ Cancel
form-button-share-phone = 📱 Share my number
form-button-skip = ⏭ Skip
# The answer under a choice question's text once a button was pressed.
form-choice-chosen =
    { $question }

    👉 <b>{ $option }</b>
# Answer lines of the summary: { $label } is the field's label from the form file.
form-summary-answer = { $label }: { $value }
form-summary-answer-long =
    { $label }:
    { $value }
form-summary-skipped = —
form-summary =
    <b>Please check your request</b>

    { $fields }

    Is everything right?
form-button-send = ✅ Send
form-button-edit = ✏️ Edit
form-button-edit-back = ⬅️ Back to the request
form-choose-field = What would you like to change?
form-cancelled = The request is cancelled. To start again, press /start
form-nothing-to-cancel = There is nothing to cancel. Main menu: /start
form-sending = Sending…
form-sent-summary =
    <b>✅ Request sent</b>

    { $fields }
# When the request text does not fit one Telegram message: its start is shown, all of it is sent.
form-summary-text-cut = … <i>(only the start is shown here; the manager gets the whole text)</i>
form-already-sent = This request has already been sent.
form-confirm-with-buttons = Press «{ $send }» to send the request, or «{ $edit }» to change it.
ticket-accepted =
    ✅ Request #{ $number } accepted!
    A manager will contact you soon.
    To leave another request: /start

## Input errors
error-name-empty = The name cannot be empty. Please type how we should call you.
error-name-too-long = The name is too long: { $length } characters, at most { $limit } allowed.
error-phone-invalid =
    I could not read that number. Please type it in full, e.g. <code>+7 916 123-45-67</code>,
    or press «{ $button }».
error-answer-empty = The answer cannot be empty. Please type it.
error-answer-too-long = The answer is too long: { $length } characters, at most { $limit } allowed. Please shorten it.
error-answer-too-short = The answer is too short: { $length } characters, at least { $limit } needed. Please tell a little more.
error-email-invalid = That does not look like an e-mail address. Please type it in full, e.g. <code>name@example.com</code>.
error-number-invalid = A number is needed here, e.g. <code>150000</code> or <code>12.5</code>.
error-number-too-small = The number must be at least { $limit }.
error-number-too-large = The number must be at most { $limit }.
error-choice-invalid = Please choose one of the options with the buttons under the question.
error-not-optional = This question cannot be skipped: it needs an answer.
error-contact-not-own = Please share your own number, not someone else's contact. Press «{ $button }» or type the number.
error-text-empty = The request cannot be empty. Please describe what you need.
error-text-too-long = The text is too long: { $length } characters, at most { $limit } allowed. Please shorten it.
error-not-text = I can only read text here. { $question }
error-too-many-tickets =
    Requests in the last hour: { $count }, which is the limit.
    You can send a new one after { $time }.
error-too-fast = You are writing too fast, so I skip some messages. Please wait a few seconds and go on.
error-button-stale = This button is out of date. Start again: /start
error-not-manager = Only the managers' chat can change a request's status.
error-ticket-not-found = Request not found.
error-internal = Something went wrong. Please try again a little later.
error-db-unavailable = This could not be saved: the database is not answering right now. Please try again in a minute.

## Managers' chat
manager-mode =
    👨‍💼 <b>Manager mode</b>
    Open requests: { $open_count }.

    New requests arrive in this chat; change their status with the buttons under each one.
    To answer a client, reply to the bot's message about their request: text, photos, files all go to the client. Other messages in this chat stay here.
    /note text — as a reply to a request's message: an internal note, never sent to the client.
    Send a photo (not as a reply) and I will reply with its PHOTO_ID for «About us».
manager-photo-id =
    PHOTO_ID of this photo:
    <code>{ $file_id }</code>
    Put it in .env as PHOTO_ID= and restart the bot.
manager-card =
    { $status_icon } <b>Request #{ $number }</b>
    🕒 { $created_at }
    { $answers }

    Status: { $status }
# Answer lines of the card, as on the client's summary.
manager-card-answer = { $label }: { $value }
manager-card-answer-long =
    { $label }:
    { $value }
manager-card-skipped = —
manager-card-profile = 💬 Telegram: { $profile }
manager-card-status-changed = { $status } by { $by }, { $at }
manager-status-open = 🟢 open
manager-status-closed = ✅ closed
manager-button-close = ✅ Close
manager-button-reopen = 🔄 Reopen
manager-ticket-closed = Request #{ $number } closed
manager-ticket-reopened = Request #{ $number } reopened
manager-ticket-already-closed = Request #{ $number } is already closed
manager-ticket-already-open = Request #{ $number } is already open
manager-digest-header =
    📥 <b>New requests: { $count }</b>
    (many at once, so in one message)
manager-digest-separator = — — —
# When a request text does not fit its card: the card shows its start, the button all of it.
manager-card-text-cut = … <i>(shortened; all of it: button «📄 #{ $number }»)</i>
# One line per request, when even shortened cards do not fit one message.
manager-card-compact = { $status_icon } <b>Request #{ $number }</b> — { $name } — { $status }
manager-button-close-numbered = ✅ Close #{ $number }
manager-button-reopen-numbered = 🔄 Reopen #{ $number }
manager-button-full-text = 📄 Full text
manager-button-full-text-numbered = 📄 #{ $number }
manager-full-text-sending = Sending the full text of request #{ $number }
# Plain text below, no HTML: it is shown when the usual message could not be sent.
manager-full-text-header = Request #{ $number }, full text ({ $part } of { $parts }):
outbox-fallback-card =
    ⚠️ Request #{ $number }: its usual card could not be sent ({ $error }). The request:
    Name: { $name }
    Phone: { $phone }
    Telegram: id { $client_id }
    Text:
    { $text }
outbox-failed-notice = ⚠️ A message about request #{ $number } could not be sent to chat { $chat_id }: { $error }. It is kept in the database; details: vizteh-bot status
outbox-failed-notice-no-ticket = ⚠️ A message to chat { $chat_id } could not be sent: { $error }. It is kept in the database; details: vizteh-bot status
manager-delivery-quarantined = { $count } messages could not be sent (they are kept)
manager-delivery-stuck = { $count } waiting, the oldest for { $minutes } min
manager-delivery-problem = ⚠️ Delivery: { $problem }. Details: vizteh-bot status

## The conversation around a request.
# The line above a client's message in the manager chat (plain text, no HTML).
conversation-client-writes = Request #{ $number } — the client writes:
conversation-client-writes-reopened = Request #{ $number } is open again — the client writes:
# Under a manager's reply to the client (plain text), see REPLY_SIGNATURE.
reply-signature-name = — { $name }, VizTeh
reply-signature-company = — VizTeh
conversation-not-delivered = ⚠️ Not delivered: { $reason }
conversation-reason-blocked = the client has blocked the bot.
conversation-reason-unreachable = the client cannot be reached ({ $error }).
conversation-reason-refused = Telegram did not accept the message ({ $error }).
conversation-digest-ambiguous = This message shows several requests, so your reply was not sent. Reply to the message of one request — for instance its full text, from the «📄 #…» button.
conversation-offer = To write to a manager, leave a request — your message will be its text.
conversation-offer-no-text = To write to a manager, leave a request.
conversation-button-new-from-draft = 📝 Leave a request
note-added = 📌 Note added to request #{ $number }. The client does not see it.
note-usage = To add a note, reply to a request's message with: /note the note
note-empty = Write the note after /note, e.g.: /note call back on Friday
note-too-long = The note is longer than { $limit } characters — please shorten it.
ticket-closed-client = Request #{ $number } is closed. If the question is not solved, just write here.
ticket-reopened-client = Request #{ $number } is being worked on again.
my-none = You have no open requests. Leave a new one: /new
my-list = Your open requests. Messages now go to #{ $current }; to write to another, choose it:
my-button = #{ $number }: { $preview }
my-chosen = Your messages now go to request #{ $number }.
# Lines under a card about the conversation.
manager-card-last-client = 💬 The client wrote last, { $at }
manager-card-last-manager = 💬 A manager answered last, { $at }
manager-card-waiting = {" "}· waiting for an answer: { $count }
manager-card-blocked = 🚫 The client has blocked the bot: replies do not reach them
manager-card-note = 📌 { $author }: { $text }
