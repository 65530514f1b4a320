// Linked topology: Static Web Apps proxies /api/* to the Function app (same origin, SWA
// sign-in). Linking also configures App Service authentication on the Function app with the
// "Azure Static Web Apps (Linked)" provider, so requests that did not come through this
// static web app are refused: the app's AUTH_MODE=platform trusts x-ms-client-principal
// only because of that. There is no service tag for Static Web Apps, so an IP-based access
// restriction cannot express "only SWA"; the link's authentication is the restriction.
param staticWebAppName string
param backendResourceId string
param backendLocation string

resource staticWebApp 'Microsoft.Web/staticSites@2023-12-01' existing = {
  name: staticWebAppName
}

resource apiBackend 'Microsoft.Web/staticSites/linkedBackends@2023-12-01' = {
  parent: staticWebApp
  name: 'api'
  properties: {
    backendResourceId: backendResourceId
    region: backendLocation
  }
}
