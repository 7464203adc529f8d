package dev.kcdev.keycloak;

import java.util.Map;

import org.keycloak.models.ClientModel;
import org.keycloak.models.ClientScopeModel;
import org.keycloak.models.RealmModel;
import org.keycloak.services.clientregistration.ClientRegistrationContext;
import org.keycloak.services.clientregistration.ClientRegistrationProvider;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy;

/**
 * A client that registers with a {@code scope} member gets exactly the named scopes as optional
 * ones (and only {@code basic} as default), so an authorization request for any other realm
 * optional scope fails with {@code invalid_scope}: MCP's step-up authorization cannot work; and
 * its tokens lack the realm's default scopes ({@code mcp:tools}) unless it asks for them, which
 * Claude Code and Codex do not when a server advertises only {@code openid}. After each
 * registration and update this policy gives the client every realm default client scope it lacks
 * as a default scope (what Keycloak 26.8 does itself, keycloak#50807) and every realm optional
 * client scope it lacks as an optional one. It never removes a scope and never moves one between
 * default and optional.
 *
 * <p>The before-hooks accept everything: what a client may request is the other policies' call
 * (Allowed Client Scopes checks the request, which this does not change).
 */
final class OptionalScopesPolicy implements ClientRegistrationPolicy {

    @Override
    public void beforeRegister(ClientRegistrationContext context) {
    }

    @Override
    public void afterRegister(ClientRegistrationContext context, ClientModel client) {
        addRealmScopes(client);
    }

    @Override
    public void beforeUpdate(ClientRegistrationContext context, ClientModel client) {
    }

    /** An update that names scopes replaces the client's scopes with them. */
    @Override
    public void afterUpdate(ClientRegistrationContext context, ClientModel client) {
        addRealmScopes(client);
    }

    @Override
    public void beforeView(ClientRegistrationProvider provider, ClientModel client) {
    }

    @Override
    public void beforeDelete(ClientRegistrationProvider provider, ClientModel client) {
    }

    static void addRealmScopes(ClientModel client) {
        RealmModel realm = client.getRealm();
        Map<String, ClientScopeModel> defaults = client.getClientScopes(true);
        Map<String, ClientScopeModel> optional = client.getClientScopes(false);
        for (boolean asDefault : new boolean[] {true, false}) {
            realm.getDefaultClientScopesStream(asDefault)
                    .filter(scope -> !defaults.containsKey(scope.getName())
                            && !optional.containsKey(scope.getName()))
                    // Collected first: adding while the realm's stream is open would read the
                    // client's scope set as it changes. A scope of another protocol is skipped by
                    // Keycloak.
                    .toList()
                    .forEach(scope -> client.addClientScope(scope, asDefault));
        }
    }
}
