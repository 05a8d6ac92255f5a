using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.SignupEmails;

/// <summary>A reader who chose a region at sign-up finds its crisis line in the sign-up emails too, not only in the editions.</summary>
public sealed class SignupEmailCrisisLineTests
{
    [Fact]
    public async Task The_confirmation_and_the_welcome_end_with_the_readers_own_crisis_line()
    {
        await using var world = await SignupWorld.StartAsync();
        var before = world.Smtp.Messages.Count;
        using var signedUp = await world.PostAsync("/subscribe",
            SignupWorld.Form(("email", "sam@example.org"), ("editions", "weekly-tip"), (Newsletter.Worker.Http.ReaderChoices.RegionField, "uk-ie")));
        await world.Smtp.WaitForMessagesAsync(before + 1, TimeSpan.FromSeconds(30));
        var confirmation = world.Smtp.Messages[before].Message;
        using var confirmed = await world.PostAsync(SignupWorld.LinkPath(confirmation, "/confirm/"));
        await world.MailIdleAsync();
        var welcome = Assert.Single(world.Smtp.Messages, m => (m.Message.Subject ?? "").StartsWith("Welcome", StringComparison.Ordinal)).Message;

        foreach (var message in new[] { confirmation, welcome })
        {
            // The plain text is wrapped at 72 columns.
            var text = System.Text.RegularExpressions.Regex.Replace(message.TextBody ?? "", @"\s+", " ");
            Assert.Contains("Samaritans are there day and night on 116 123", text, StringComparison.Ordinal);
            Assert.Contains("Samaritans are there day and night on 116 123", message.HtmlBody, StringComparison.Ordinal);
            Assert.DoesNotContain("988", text, StringComparison.Ordinal);
        }
    }
}
