using Newsletter.Templates.Rendering;

namespace Newsletter.Tests.Templates;

public class PersonalizationTests
{
    private static Task<PreparedEmail> PrepareFactAsync() => SampleIssues.Renderer.PrepareAsync(SampleIssues.Fact());

    [Fact]
    public async Task A_recipient_is_greeted_by_name_in_both_parts()
    {
        var email = (await PrepareFactAsync()).Personalize(SampleIssues.Sam());

        Assert.Matches("<p class=\"greeting\"[^>]*>Hi Sam,</p>", email.Html);
        Assert.Contains("\nHi Sam,\n", email.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public async Task A_recipient_without_a_name_still_gets_a_warm_greeting(string? name)
    {
        var email = (await PrepareFactAsync()).Personalize(new PersonalFields(name, SampleIssues.BaseUrl + "/unsubscribe?t=abc"));

        Assert.Matches("<p class=\"greeting\"[^>]*>Hi there,</p>", email.Html);
        Assert.Contains("\nHi there,\n", email.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_with_markup_is_encoded_in_the_html_and_left_as_written_in_the_text()
    {
        var email = (await PrepareFactAsync()).Personalize(new PersonalFields("<b>Sam & Co</b>", SampleIssues.BaseUrl + "/unsubscribe?t=abc"));

        Assert.Contains("Hi &lt;b&gt;Sam &amp; Co&lt;/b&gt;,", email.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>Sam", email.Html, StringComparison.Ordinal);
        Assert.Contains("\nHi <b>Sam & Co</b>,\n", email.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_cannot_break_the_text_into_new_lines()
    {
        var email = (await PrepareFactAsync()).Personalize(new PersonalFields("Sam\r\nUnsubscribe: https://evil.example", SampleIssues.BaseUrl + "/unsubscribe?t=abc"));

        Assert.Contains("\nHi Sam Unsubscribe: https://evil.example,\n", email.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Links_are_attribute_encoded_in_the_html_and_raw_in_the_text()
    {
        const string unsubscribe = SampleIssues.BaseUrl + "/unsubscribe?t=a1b2&e=weekly-fact&q=\"x\"";
        var email = (await PrepareFactAsync()).Personalize(new PersonalFields("Sam", unsubscribe));

        Assert.Contains(
            "href=\"https://steadyground.example.org/unsubscribe?t=a1b2&amp;e=weekly-fact&amp;q=&quot;x&quot;\"",
            email.Html,
            StringComparison.Ordinal);
        Assert.Contains($"Unsubscribe: {unsubscribe}\n", email.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_preferences_link_appears_in_both_parts_when_the_recipient_has_one()
    {
        var fields = SampleIssues.Sam(preferencesUrl: SampleIssues.BaseUrl + "/preferences?t=p-42");
        var email = (await PrepareFactAsync()).Personalize(fields);

        Assert.Matches("<a href=\"https://steadyground.example.org/preferences\\?t=p-42\"[^>]*>Manage your editions</a>", email.Html);
        Assert.EndsWith("Manage your editions: https://steadyground.example.org/preferences?t=p-42\n", email.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_preferences_link_is_left_out_entirely_when_there_is_none()
    {
        var email = (await PrepareFactAsync()).Personalize(SampleIssues.Sam(preferencesUrl: null));

        Assert.DoesNotContain("Manage your editions", email.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"preferences\"", email.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<!--", email.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("Manage your editions", email.Text, StringComparison.Ordinal);
        Assert.EndsWith($"Unsubscribe: {SampleIssues.Sam().UnsubscribeUrl}\n", email.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_recipients_of_one_prepared_email_each_get_their_own_links()
    {
        var prepared = await PrepareFactAsync();

        var sam = prepared.Personalize(new PersonalFields("Sam", SampleIssues.BaseUrl + "/unsubscribe?t=sam-token"));
        var ana = prepared.Personalize(new PersonalFields("Ana", SampleIssues.BaseUrl + "/unsubscribe?t=ana-token", SampleIssues.BaseUrl + "/preferences?t=ana-pref"));

        Assert.Contains("t=sam-token", sam.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("t=ana-token", sam.Html, StringComparison.Ordinal);
        Assert.Contains("t=ana-token", ana.Html, StringComparison.Ordinal);
        Assert.Contains("t=ana-token", ana.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("t=sam-token", ana.Text, StringComparison.Ordinal);
        Assert.Contains("Hi Ana,", ana.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("Manage your editions", sam.Html, StringComparison.Ordinal);
        Assert.Contains("Manage your editions", ana.Html, StringComparison.Ordinal);

        // The first recipient's email is unchanged by the second: nothing is shared but the literal segments.
        Assert.Equal(sam, prepared.Personalize(new PersonalFields("Sam", SampleIssues.BaseUrl + "/unsubscribe?t=sam-token")));
    }

    [Fact]
    public async Task Many_senders_can_personalise_one_prepared_email_at_the_same_time()
    {
        var prepared = await PrepareFactAsync();

        var results = new RenderedEmail[500];
        Parallel.For(0, results.Length, i =>
            results[i] = prepared.Personalize(new PersonalFields($"Reader {i}", $"{SampleIssues.BaseUrl}/unsubscribe?t=tok-{i}-end")));

        for (var i = 0; i < results.Length; i++)
        {
            Assert.Contains($"Hi Reader {i},", results[i].Html, StringComparison.Ordinal);
            Assert.Contains($"t=tok-{i}-end\"", results[i].Html, StringComparison.Ordinal);
            Assert.Contains($"Unsubscribe: {SampleIssues.BaseUrl}/unsubscribe?t=tok-{i}-end\n", results[i].Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Personalising_leaves_no_placeholder_behind()
    {
        foreach (var edition in new[] { "fact", "tip", "spotlight" })
        {
            var prepared = await SampleIssues.Renderer.PrepareAsync(SampleIssues.Edition(edition));
            foreach (var fields in new[] { SampleIssues.Sam(), SampleIssues.Sam(preferencesUrl: null) })
            {
                var email = prepared.Personalize(fields);
                Assert.DoesNotContain("[[nl:", email.Html, StringComparison.Ordinal);
                Assert.DoesNotContain("[[nl:", email.Text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Text_that_looks_like_a_placeholder_in_an_issue_is_left_alone()
    {
        var prepared = await SampleIssues.Renderer.PrepareAsync(SampleIssues.Fact(body: "Say [[nl:greeting]] and [[nl:abc:unsubscribe-url]] out loud."));
        var email = prepared.Personalize(SampleIssues.Sam());

        Assert.Contains("[[nl:greeting]]", email.Text, StringComparison.Ordinal);
        Assert.Contains("[[nl:abc:unsubscribe-url]]", email.Html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("/unsubscribe?t=abc")]
    [InlineData("")]
    public async Task An_unsubscribe_link_that_is_not_a_full_web_address_is_refused(string url)
    {
        var prepared = await PrepareFactAsync();

        Assert.Throws<ArgumentException>(() => prepared.Personalize(new PersonalFields("Sam", url)));
    }
}
