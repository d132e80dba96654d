//! Voice notes: the audio is downloaded through the Graph API (size cap) into the data
//! directory, transcribed by the configured speech-to-text command (with a timeout), and
//! removed; the transcript is then treated like a typed message.

use std::time::Instant;

use super::WhatsApp;
use crate::domain::messages::InboundMessage;

impl WhatsApp {
    /// The transcript of a voice note; `None` when there is no command, the download or the
    /// command fails, or the transcript is empty (the guest is asked to write).
    pub(super) async fn transcribe(&self, msg: &InboundMessage) -> Option<String> {
        let wa = &self.app.settings.whatsapp;
        let (Some(command), Some(graph), Some(media)) = (
            wa.stt_command.clone(),
            self.graph.clone(),
            msg.media_id.clone(),
        ) else {
            return None;
        };
        let started = Instant::now();
        let text = self
            .run_stt(command, graph, media, wa.media_max_bytes)
            .await;
        metrics::histogram!("stt_duration_seconds").record(started.elapsed().as_secs_f64());
        if text.is_none() {
            metrics::counter!("stt_failures_total").increment(1);
        }
        text
    }

    async fn run_stt(
        &self,
        command: Vec<String>,
        graph: crate::integrations::whatsapp::Graph,
        media: String,
        max_bytes: u64,
    ) -> Option<String> {
        let (program, args) = command.split_first()?;
        let audio = tokio::task::spawn_blocking(move || graph.media(&media, max_bytes))
            .await
            .ok()?
            .map_err(|e| tracing::warn!(error = %e, "cannot download a voice note"))
            .ok()?;
        let dir = self.app.settings.data_dir.join("tmp");
        tokio::fs::create_dir_all(&dir).await.ok()?;
        let path = dir.join(format!("voice-{}.ogg", crate::secret::random_hex(8)));
        tokio::fs::write(&path, audio).await.ok()?;
        let mut command = tokio::process::Command::new(program);
        // SAFETY: prctl(2) is async-signal-safe and takes plain integers. The server turns
        // transparent huge pages off for itself (main.rs); a speech model may want them.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_THP_DISABLE, 0, 0, 0, 0);
                Ok(())
            })
        };
        let run = command
            .args(args)
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(self.app.settings.whatsapp.stt_timeout, run).await;
        let _ = tokio::fs::remove_file(&path).await;
        let output = match output {
            Ok(Ok(o)) if o.status.success() => o,
            Ok(Ok(o)) => {
                tracing::warn!(status = %o.status, "speech-to-text command failed");
                return None;
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot run the speech-to-text command");
                return None;
            }
            Err(_) => {
                tracing::warn!("speech-to-text command timed out");
                return None;
            }
        };
        let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        (text.chars().filter(|c| c.is_alphanumeric()).count() >= 2).then_some(text)
    }
}
