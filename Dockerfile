# The newsletter service in a container. Build: docker build -t newsletter .
# Run:   docker run -p 8080:8080 -v newsletter-data:/data -e Newsletter__PublicBaseUrl=http://localhost:8080 newsletter
# (deploy/compose.yaml runs it with a database and a mail catcher to try it out.)

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so a code change does not download the packages again.
COPY Directory.Build.props Directory.Packages.props BannedSymbols.txt ./
COPY src/Worker/Newsletter.Worker.csproj src/Worker/
COPY src/Templates/Newsletter.Templates.csproj src/Templates/
COPY src/Subscribers/Newsletter.Subscribers.csproj src/Subscribers/
RUN dotnet restore src/Worker -r linux-x64
COPY src/ src/
RUN dotnet publish src/Worker -c Release -r linux-x64 --no-restore -o /app \
    && mkdir -p /data/pickup

# Chiseled (no shell, no package manager, non-root) with ICU and time-zone data: the editions'
# schedules name time zones, and the pages format dates and numbers for the newsletter's language.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra
WORKDIR /app
COPY --from=build /app .
COPY --from=build --chown=$APP_UID:$APP_UID /data /data
USER $APP_UID
# The image's ASPNETCORE_HTTP_PORTS (8080) is used in place of appsettings.json's localhost:5080.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_ENVIRONMENT=Production \
    ConnectionStrings__Newsletter="Data Source=/data/newsletter.db" \
    Delivery__PickupDirectory=/data/pickup
EXPOSE 8080
VOLUME /data
# docker stop sends SIGTERM: the service stops taking work and records the messages in flight.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/newsletter"]
