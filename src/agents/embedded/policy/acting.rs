//! Doing what an intent of the agent says: its reply (or, when the caller already
//! followed that advice, the ticket instead), or its tool call with the arguments
//! filled from the call — unless the result is already known from earlier in the
//! call, a value is still missing (then the intent's question, asked again in other
//! words the second time), or a rule says something must come first (the month of an
//! older bill, the invoice list, a bill not issued yet, another number's account).

use super::*;

/// The question closing a customer's price answer for one plan: a yes takes that plan.
pub(super) const SWITCH_TO_IT: &str = "Would you like to switch to it?";

impl Policy {
    /// Does what an intent of this agent says: call its tool or reply.
    pub(super) fn act(&self, t: &Turn, intent: &IntentSpec, result: Option<&Value>) -> Decision {
        let Some(tool) = &intent.tool else {
            let text = choose_reply(&intent.replies, &json!({}))
                .or_else(|| t.spec.fallback.clone())
                .unwrap_or_else(|| FALLBACK.into());
            // Advice the caller already followed ("I've updated it, I've restarted
            // the phone, it still does it"): the ticket instead.
            if let Some(d) = self.instead_of_advice_followed(t, &text) {
                return d;
            }
            // "What does your middle plan cost a month?": the one option asked about,
            // read from the list we would say.
            if let Some(narrowed) = self.one_option_of_list(t, intent, &text) {
                return Decision::Say(narrowed);
            }
            // Someone with no account here (a prospect comparing providers) has no
            // plan to switch: the list, and no offer.
            let prospect =
                identity::not_on_file(&t.req.messages) || args::number_withheld(&t.req.messages);
            if prospect && intent.accept.as_deref() == Some("change_plan") {
                if let Some(question) = offer_questions::question_in(&text) {
                    if let Some(list) = text
                        .trim_end()
                        .strip_suffix(question)
                        .filter(|_| question.contains("switch"))
                    {
                        return Decision::Say(format!(
                            "{} Is there anything else I can help with?",
                            list.trim_end()
                        ));
                    }
                }
            }
            return Decision::Say(text);
        };
        if !has_tool(&t.req.tools, tool) {
            return Decision::Say(t.spec.fallback.clone().unwrap_or_else(|| FALLBACK.into()));
        }
        if let Some(d) = self.bill_not_issued(t, intent) {
            return d;
        }
        if let Some(d) = self.to_another_number(t, intent) {
            return d;
        }
        if let Some(d) = self.older_bill_month_first(t, intent) {
            return d;
        }
        if let Some(d) = self.invoice_list_first(t, intent) {
            return d;
        }
        match self.fill_args(t, &intent.args, tool, result, &intent.synonyms) {
            Ok(arguments) if let Some(known) = results::known_result(t, tool, &arguments) => {
                let text = self.answer_result(t, Some(intent), tool, &known);
                let text = results::as_said_before(&t.req.messages, text);
                // ("No double charge? … That's all, goodbye.": the answer, then goodbye.)
                self.maybe_close(t, tool, &known, text)
            }
            Ok(arguments) if let Some(d) = self.against_direction(t, tool, &arguments) => d,
            // A look-up of the calling number that is known to match no account (a
            // prospect asking the API limits): the intent's general answer, no call.
            Ok(arguments)
                if tool == "lookup_customer"
                    && arguments.as_object().is_some_and(|a| a.is_empty())
                    && identity::not_on_file(&t.req.messages)
                    && let Some(text) = intent
                        .replies
                        .iter()
                        .find(|r| r.when().is_none())
                        .and_then(|r| render(r.text(), &json!({}))) =>
            {
                Decision::Say(text)
            }
            Ok(arguments) => Decision::Call {
                say: intent.say.clone(),
                name: tool.clone(),
                arguments,
            },
            Err(_) if let Some(d) = self.nothing_that_way(t, tool) => d,
            Err(_) => {
                let ask = intent.ask.clone().unwrap_or_else(|| FALLBACK.into());
                let again = intent.ask_again.clone().filter(|a| {
                    let msgs = &t.req.messages;
                    super::history::said_within(msgs, &ask) && !super::history::said_within(msgs, a)
                });
                Decision::Say(again.unwrap_or(ask))
            }
        }
    }

    /// A reply listing the options of the intent a yes leads to (`accept`), narrowed
    /// to the one option the caller names: "Plus is 59.99 with 500 megabits. Anything
    /// else I can help with?" for a caller with no account here (a prospect); for a
    /// customer, against what they pay now and offered ("…, instead of 39.99 now.
    /// Would you like to switch to it?", [`SWITCH_TO_IT`]). Not for the plan they are
    /// on.
    fn one_option_of_list(&self, t: &Turn, intent: &IntentSpec, text: &str) -> Option<String> {
        let name = intent.accept.as_deref()?;
        // ("What plans have you got, what do they cost, and which one is fastest?"
        // asks for them all.)
        let all = confirm::says_any(
            t.user_text,
            &[
                "what plans",
                "which plans",
                "your plans",
                "the plans",
                "all the plans",
                "do they cost",
                "are they",
                "do they come",
            ],
        );
        if all {
            return None;
        }
        let target = t.spec.intents.iter().find(|i| i.name == name)?;
        let (option, named) = self.named_option(t, target)?;
        if named != 1 {
            return None;
        }
        let said_of = super::options::option_in(text, &option)?;
        let prospect =
            identity::not_on_file(&t.req.messages) || args::number_withheld(&t.req.messages);
        if prospect {
            return Some(format!("{said_of}. Anything else I can help with?"));
        }
        let (code, _, now) = super::plan_direction::current_plan(&t.req.messages)?;
        if code == option || !target.args.contains_key("plan") {
            return None;
        }
        // (The list gives prices without a dollar sign; so does this.)
        let now = now.trim_start_matches('$');
        Some(format!("{said_of}, instead of {now} now. {SWITCH_TO_IT}"))
    }

    /// Fills a tool's arguments from the mapping; `Err` names a value the caller has not given.
    pub(super) fn fill_args(
        &self,
        t: &Turn,
        mapping: &toml::Table,
        tool: &str,
        result: Option<&Value>,
        synonyms: &Synonyms,
    ) -> Result<Value, String> {
        let mut out = Map::new();
        let mut callers = caller_lines(&t.req.messages[..=t.user_idx]);
        // A turn served in parts reads its values from the clause in focus; an earlier
        // request served now (after the account was verified) reads them from itself
        // first, then from what was said since ("…could you send it to the email?").
        let in_latest = callers.first().is_some_and(|latest| {
            let latest = confirm::words(latest).join(" ");
            latest.contains(&confirm::words(t.user_text).join(" "))
        });
        if in_latest {
            callers[0] = t.user_text;
        } else {
            callers.retain(|c| *c != t.user_text);
            callers.insert(0, t.user_text);
        }
        // A place is only optional when the calling number is an account's (the tool
        // then knows where the caller is); otherwise it is asked for, not guessed.
        let no_account =
            identity::not_on_file(&t.req.messages) || args::number_withheld(&t.req.messages);
        for (key, spec) in mapping {
            let (value, optional) = match spec.as_str() {
                Some(s) if s.starts_with('$') => {
                    let optional = s.ends_with('?') && !(s == "$place?" && no_account);
                    (
                        resolve(
                            s.trim_end_matches('?'),
                            key,
                            tool,
                            t,
                            &callers,
                            result,
                            synonyms,
                        ),
                        optional,
                    )
                }
                _ => (serde_json::to_value(spec).ok(), false),
            };
            match value {
                Some(v) => {
                    out.insert(key.clone(), v);
                }
                None if optional => {}
                None => return Err(key.clone()),
            }
        }
        Ok(Value::Object(out))
    }
}

/// The first reply whose condition holds and whose placeholders all resolve.
pub(super) fn choose_reply(replies: &[Reply], result: &Value) -> Option<String> {
    replies.iter().find_map(|r| {
        if r.when().is_some_and(|w| !condition(w, result)) {
            return None;
        }
        render(r.text(), result)
    })
}
