namespace Newsletter.Worker.Admin;

/// <summary>The publication page's only script, served as a file: the pages' Content-Security-Policy allows no inline script.</summary>
internal static class PublicationScript
{
    public const string Path = "/admin/scripts/publication.js";

    /// <summary>Refreshes the counts while the send runs; the page works without it.</summary>
    public const string Source = """
        (() => {
            const live = document.getElementById('live');
            if (!live || live.dataset.sending !== 'true') return;
            const timer = setInterval(async () => {
                const response = await fetch(live.dataset.source, { headers: { Accept: 'application/json' } });
                if (!response.ok) { clearInterval(timer); return; }
                const data = await response.json();
                for (const [key, value] of Object.entries(data)) {
                    const cell = live.querySelector(`[data-field="${key}"]`);
                    if (cell) cell.textContent = value ?? '–';
                }
                if (data.status !== 'sending') clearInterval(timer);
            }, 2000);
        })();
        """;
}
