# Тексты бота на русском. Меняйте текст справа от «=», ключи слева не трогайте.
# { $name } — подстановка значения; её нужно оставить как есть.
# HTML-разметка Telegram: <b>жирный</b>, <i>курсив</i>, <a href="https://...">ссылка</a>.

## Главное меню
menu-greeting =
    Здравствуйте, { $name }! 👋
    Я бот компании ВизТех. Здесь можно оставить заявку — менеджер свяжется с вами.
menu-button-new-ticket = 📝 Оставить заявку
menu-button-about = 🏢 О компании
menu-hint = Выберите действие в меню: /start

## О компании (подпись к фото: не длиннее 1024 символов)
about-text =
    <b>ВизТех</b> — разрабатываем и сопровождаем информационные системы для бизнеса.

    📍 Москва, ул. Примерная, 1
    📞 +7 (495) 000-00-00
    ✉️ info@vizteh.example
    🕘 Пн–Пт, 9:00–18:00

## Форма заявки
form-button-back = ⬅️ Назад
form-button-cancel = ✖️ Отмена
form-button-share-phone = 📱 Отправить мой номер
form-button-skip = ⏭ Пропустить
# Ответ на выбранный вопрос под его текстом, после нажатия кнопки.
form-choice-chosen =
    { $question }

    👉 <b>{ $option }</b>
# Строки ответов в сводке: { $label } — название поля из файла формы, { $value } — ответ.
form-summary-answer = { $label }: { $value }
form-summary-answer-long =
    { $label }:
    { $value }
form-summary-skipped = —
form-summary =
    <b>Проверьте заявку</b>

    { $fields }

    Всё верно?
form-button-send = ✅ Отправить
form-button-edit = ✏️ Изменить
form-button-edit-back = ⬅️ К заявке
form-choose-field = Что изменить?
form-cancelled = Заявка отменена. Чтобы начать заново, нажмите /start
form-nothing-to-cancel = Сейчас нечего отменять. Главное меню: /start
form-sending = Отправляем…
form-sent-summary =
    <b>✅ Заявка отправлена</b>

    { $fields }
# Когда текст заявки не помещается в одно сообщение Telegram: показано начало, отправлен весь.
form-summary-text-cut = … <i>(здесь показано начало, менеджер получит весь текст)</i>
form-already-sent = Эта заявка уже отправлена.
form-confirm-with-buttons = Нажмите «{ $send }», чтобы отправить заявку, или «{ $edit }», чтобы изменить её.
ticket-accepted =
    ✅ Заявка №{ $number } принята!
    Менеджер свяжется с вами в ближайшее время.
    Оставить ещё одну заявку: /start

## Ошибки ввода
error-name-empty = Имя не может быть пустым. Напишите, как к вам обращаться.
error-name-too-long = Имя слишком длинное (символов: { $length }), можно не больше { $limit }.
error-phone-invalid =
    Не получилось распознать номер. Напишите его целиком, например <code>+7 916 123-45-67</code>,
    или нажмите кнопку «{ $button }».
error-answer-empty = Ответ не может быть пустым. Напишите его, пожалуйста.
error-answer-too-long = Слишком длинный ответ (символов: { $length }), можно не больше { $limit }. Сократите его, пожалуйста.
error-answer-too-short = Слишком короткий ответ (символов: { $length }), нужно не меньше { $limit }. Напишите подробнее, пожалуйста.
error-email-invalid = Это не похоже на адрес электронной почты. Напишите его целиком, например <code>name@example.ru</code>.
error-number-invalid = Здесь нужно число, например <code>150000</code> или <code>12,5</code>.
error-number-too-small = Число должно быть не меньше { $limit }.
error-number-too-large = Число должно быть не больше { $limit }.
error-choice-invalid = Выберите один из вариантов кнопкой под вопросом.
error-not-optional = Этот вопрос пропустить нельзя: на него нужен ответ.
error-contact-not-own = Пожалуйста, отправьте свой номер, а не контакт другого человека. Нажмите кнопку «{ $button }» или напишите номер.
error-text-empty = Текст заявки не может быть пустым. Опишите, что вам нужно.
error-text-too-long = Слишком длинный текст (символов: { $length }), можно не больше { $limit }. Сократите его, пожалуйста.
error-not-text = Я понимаю здесь только текст. { $question }
error-too-many-tickets =
    Заявок за последний час: { $count } — это максимум.
    Новую заявку можно будет отправить после { $time }.
error-too-fast = Вы пишете слишком часто, и часть сообщений я пропускаю. Подождите несколько секунд и продолжайте.
error-button-stale = Эта кнопка устарела. Начните заново: /start
error-not-manager = Менять статус заявок можно только из чата менеджеров.
error-ticket-not-found = Заявка не найдена.
error-internal = Что-то пошло не так. Попробуйте ещё раз чуть позже.
error-db-unavailable = Не получилось сохранить: база данных сейчас не отвечает. Повторите, пожалуйста, через минуту.

## Чат менеджеров
manager-mode =
    👨‍💼 <b>Режим менеджера</b>
    Открытых заявок: { $open_count }.

    Новые заявки приходят в этот чат, статус меняется кнопками под заявкой.
    Чтобы ответить клиенту, ответьте (Reply) на сообщение бота о его заявке: текст, фото, файл — всё уйдёт клиенту. Остальные сообщения чата клиент не видит.
    /note текст — в ответ на сообщение заявки: внутренняя заметка, клиенту не уходит.
    Пришлите фото (не ответом) — я отвечу его PHOTO_ID для раздела «О компании».
manager-photo-id =
    PHOTO_ID этого фото:
    <code>{ $file_id }</code>
    Впишите его в .env как PHOTO_ID= и перезапустите бота.
manager-card =
    { $status_icon } <b>Заявка №{ $number }</b>
    🕒 { $created_at }
    { $answers }

    Статус: { $status }
# Строки ответов в карточке, как в сводке у клиента.
manager-card-answer = { $label }: { $value }
manager-card-answer-long =
    { $label }:
    { $value }
manager-card-skipped = —
manager-card-profile = 💬 Telegram: { $profile }
manager-card-status-changed = { $status } — { $by }, { $at }
manager-status-open = 🟢 открыта
manager-status-closed = ✅ закрыта
manager-button-close = ✅ Закрыть
manager-button-reopen = 🔄 Открыть
manager-ticket-closed = Заявка №{ $number } закрыта
manager-ticket-reopened = Заявка №{ $number } снова открыта
manager-ticket-already-closed = Заявка №{ $number } уже закрыта
manager-ticket-already-open = Заявка №{ $number } уже открыта
manager-digest-header =
    📥 <b>Новые заявки: { $count }</b>
    (их много, поэтому одним сообщением)
manager-digest-separator = — — —
# Когда текст заявки не помещается в карточку: в ней начало текста, весь текст — по кнопке.
manager-card-text-cut = … <i>(текст сокращён, весь — кнопка «📄 №{ $number }»)</i>
# Одна строка на заявку, если даже сокращённые карточки не помещаются в одно сообщение.
manager-card-compact = { $status_icon } <b>Заявка №{ $number }</b> — { $name } — { $status }
manager-button-close-numbered = ✅ Закрыть №{ $number }
manager-button-reopen-numbered = 🔄 Открыть №{ $number }
manager-button-full-text = 📄 Весь текст
manager-button-full-text-numbered = 📄 №{ $number }
manager-full-text-sending = Отправляю весь текст заявки №{ $number }
# Ниже — простой текст без HTML-разметки: его показывают, когда обычное сообщение не отправилось.
manager-full-text-header = Заявка №{ $number }, весь текст ({ $part } из { $parts }):
outbox-fallback-card =
    ⚠️ Заявка №{ $number }: обычная карточка не отправилась ({ $error }). Данные заявки:
    Имя: { $name }
    Телефон: { $phone }
    Telegram: id { $client_id }
    Текст:
    { $text }
outbox-failed-notice = ⚠️ Сообщение по заявке №{ $number } не удалось отправить в чат { $chat_id }: { $error }. Оно сохранено в базе; подробности: vizteh-bot status
outbox-failed-notice-no-ticket = ⚠️ Сообщение в чат { $chat_id } не удалось отправить: { $error }. Оно сохранено в базе; подробности: vizteh-bot status
manager-delivery-quarantined = не отправлено сообщений: { $count } (они сохранены)
manager-delivery-stuck = ждут отправки: { $count }, самое старое — { $minutes } мин
manager-delivery-problem = ⚠️ Доставка: { $problem }. Подробности: vizteh-bot status

## Переписка по заявке.
# Заголовок над сообщением клиента в чате менеджеров (простой текст, без HTML).
conversation-client-writes = Заявка №{ $number } — клиент пишет:
conversation-client-writes-reopened = Заявка №{ $number } снова открыта — клиент пишет:
# Подпись под ответом менеджера клиенту (простой текст), см. REPLY_SIGNATURE.
reply-signature-name = — { $name }, ВизТех
reply-signature-company = — ВизТех
conversation-not-delivered = ⚠️ Не доставлено: { $reason }
conversation-reason-blocked = клиент заблокировал бота.
conversation-reason-unreachable = клиент недоступен ({ $error }).
conversation-reason-refused = Telegram не принял сообщение ({ $error }).
conversation-digest-ambiguous = В этом сообщении несколько заявок, и ответ не ушёл. Ответьте на сообщение одной заявки — например, на весь текст по кнопке «📄 №…».
conversation-offer = Чтобы написать менеджеру, оставьте заявку — ваше сообщение станет её текстом.
conversation-offer-no-text = Чтобы написать менеджеру, оставьте заявку.
conversation-button-new-from-draft = 📝 Оставить заявку
note-added = 📌 Заметка добавлена к заявке №{ $number }. Клиент её не видит.
note-usage = Чтобы добавить заметку, ответьте на сообщение заявки командой: /note текст заметки
note-empty = Напишите текст заметки после /note, например: /note перезвонить в пятницу
note-too-long = Заметка длиннее { $limit } символов — сократите её.
ticket-closed-client = Заявка №{ $number } закрыта. Если вопрос не решён, просто напишите сюда.
ticket-reopened-client = Заявка №{ $number } снова в работе.
my-none = У вас нет открытых заявок. Оставить новую: /new
my-list = Ваши открытые заявки. Сейчас сообщения уходят в заявку №{ $current }; чтобы писать в другую, выберите её:
my-button = №{ $number }: { $preview }
my-chosen = Теперь ваши сообщения уходят в заявку №{ $number }.
# Строки под карточкой о переписке.
manager-card-last-client = 💬 Последним писал клиент, { $at }
manager-card-last-manager = 💬 Последним отвечал менеджер, { $at }
manager-card-waiting = {" "}· ждут ответа: { $count }
manager-card-blocked = 🚫 Клиент заблокировал бота: ответы до него не доходят
manager-card-note = 📌 { $author }: { $text }
