# One image for every app: the server (run once per app id with Atomic__App) and the dev chain.
#   docker build -t atomic-server:latest .
# Server: dotnet /app/server/Atomic.Server.dll (the default). Dev chain: dotnet /app/devchain/Atomic.DevChain.dll
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Atomic.Server/Atomic.Server.csproj -c Release -o /out/server \
 && dotnet publish src/Atomic.DevChain/Atomic.DevChain.csproj -c Release -o /out/devchain

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# libsecp256k1 comes with the app (Secp256k1.Net bundles it under runtimes/): nothing to install.
WORKDIR /app
COPY --from=build /out/server /app/server
COPY --from=build /out/devchain /app/devchain
# The component files, for Atomic:Runtime=embedded; on Dapr the sidecar reads the cluster's Components.
COPY components/*.yaml /app/components/
ENV ASPNETCORE_ENVIRONMENT=Production \
    Atomic__Components=/app/components \
    Atomic__BaseDirectory=/tmp/atomic
# The aspnet image's non-root user.
USER $APP_UID
EXPOSE 5080 5081 5082 5083 5084 5090
ENTRYPOINT []
CMD ["dotnet", "/app/server/Atomic.Server.dll"]
